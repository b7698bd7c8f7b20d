"""Pacing measured from the sandbox's arrival log: the most SOAP calls in any one-second window, and the
achieved rate. Usage: arrivals.py ARRIVALS.jsonl LIMIT"""
import datetime
import json
import sys

path, limit = sys.argv[1], float(sys.argv[2])
times = []
for line in open(path):
    arrival = json.loads(line)
    if arrival.get("action") not in ("File", "RetrieveStatus", "Create", "Update", "Terminate"):
        continue  # OAuth and the sandbox's own helper routes are not gateway calls
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
