"""Pacing measured from the sandbox's arrival log: the most gateway calls in any one-second window, and the
achieved rate, for one gateway: IRD's SOAP calls (the default) or HMRC's API calls (every VAT request, redirects
included, as HMRC counts them; not OAuth). Usage: arrivals.py ARRIVALS.jsonl LIMIT [ird|hmrc]"""
import datetime
import json
import sys

path, limit = sys.argv[1], float(sys.argv[2])
gateway = sys.argv[3] if len(sys.argv) > 3 else "ird"
IRD_ACTIONS = ("File", "RetrieveStatus", "RetrieveReturn", "Create", "Update", "Terminate")


def counts(action: str) -> bool:
    if gateway == "hmrc":
        return action.startswith("hmrc.vat.") or action == "hmrc.moved"
    return action in IRD_ACTIONS


times = []
for line in open(path):
    arrival = json.loads(line)
    if not counts(arrival.get("action", "")):
        continue  # OAuth, the other gateway and the sandbox's own helper routes are not this gateway's calls
    times.append(datetime.datetime.fromisoformat(arrival["at"].replace("Z", "+00:00")).timestamp())
times.sort()
best, start = 0, 0
for end in range(len(times)):
    while times[end] - times[start] >= 1.0:
        start += 1
    best = max(best, end - start + 1)
span = times[-1] - times[0] if len(times) > 1 else 0
achieved = (len(times) - 1) / span if span > 0 else 0
print(f"{len(times)} gateway calls; most in any one-second window: {best} (limit {limit:g}); "
      f"achieved {achieved:.2f} calls/s = {achieved / limit:.3f} of the limit")
