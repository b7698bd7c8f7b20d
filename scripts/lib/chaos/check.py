"""The invariants scripts/chaos checks after each scenario, from the database (psql, as the owner role) and the
sandbox's own records (its /sandbox/stats JSON, its arrivals log). Prints the scenario's one line of counts and
exits 1 when an invariant is broken.

Usage: check.py NAME STATS.json ARRIVALS.jsonl [key=value ...]
Extra key=value pairs are printed as given; these are failures when non-zero: overdue_exits, hostile_wrong,
long_log_lines, unfinished_after_bound. (The caller has measured them.)
"""
import json
import subprocess
import sys

name, stats_path, arrivals_path = sys.argv[1:4]
extra = dict(arg.split("=", 1) for arg in sys.argv[4:])


def rows(sql):
    out = subprocess.run(["psql", "-qAt", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
                         check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def one(sql):
    return rows(sql)[0]


total, final, succeeded, rejected, dead, cancelled, running = map(int, one("""
SELECT count(*), count(*) FILTER (WHERE finished_at IS NOT NULL), count(*) FILTER (WHERE state = 'succeeded'),
       count(*) FILTER (WHERE state = 'rejected'), count(*) FILTER (WHERE state = 'dead'),
       count(*) FILTER (WHERE state = 'cancelled'), count(*) FILTER (WHERE state = 'running')
FROM tuku.jobs"""))

# Stuck: still running although its lease ran out more than two rescue intervals ago.
stuck = int(one("""SELECT count(*) FROM tuku.jobs
                    WHERE state = 'running' AND lease_expires_at < now() - interval '5 seconds'""")[0])

# Cancelled then run: a job whose cancellation was requested must end `cancelled` (or `succeeded`, when the run
# in hand at that moment filed it), and no run may start after the request. An attempt's start is the worker's
# clock when the handler began, which can come a few milliseconds after a claim that preceded the cancel: a
# second's tolerance (a real run again comes after a lease expiry or a backoff, seconds later).
cancelled_then_run = int(one("""
SELECT count(*) FROM tuku.jobs j
WHERE j.cancel_requested_at IS NOT NULL
  AND (j.state NOT IN ('cancelled', 'succeeded')
       OR EXISTS (SELECT 1 FROM tuku.attempts a WHERE a.job_id = j.id AND a.started_at > j.cancel_requested_at + interval '1 second'))""")[0])
cancels = int(one("SELECT count(*) FROM tuku.jobs WHERE cancel_requested_at IS NOT NULL")[0])

# Exchanges in order, per job: after a File whose outcome was not settled, the next gateway call for that job
# must be a RetrieveStatus that got an answer (a throttled or failed status check settles nothing).
refiled_without_check = 0
ok_files_per_job = {}
state = {}
for job_id, action, outcome, http_status in rows("""
        SELECT job_id, CASE WHEN action LIKE '%RetrieveStatus' THEN 'RetrieveStatus' ELSE 'File' END, outcome,
               coalesce(http_status::text, '')
        FROM tuku.exchanges WHERE action LIKE '%/File' OR action LIKE '%/RetrieveStatus' ORDER BY job_id, id"""):
    unsettled = state.get(job_id, False)
    if action == "File":
        if unsettled:
            refiled_without_check += 1
        state[job_id] = outcome == "outcome_unknown" or http_status == ""
        if http_status == "200" and outcome == "succeeded":
            ok_files_per_job[job_id] = ok_files_per_job.get(job_id, 0) + 1
    elif http_status == "200" and outcome not in ("outcome_unknown", "throttled"):
        state[job_id] = False
jobs_filed_twice = sum(1 for n in ok_files_per_job.values() if n > 1)

# The sandbox's records.
stats = {}
try:
    stats = json.load(open(stats_path))
except (OSError, ValueError):
    pass
duplicate_filings = int(stats.get("duplicateFilings", 0))
duplicates_refused = int(stats.get("duplicatesRefused", 0))
filings = int(stats.get("filingsStored", 0))
token_refused = 0
token_calls = 0
try:
    for line in open(arrivals_path):
        arrival = json.loads(line)
        if arrival.get("action") == "oauth.token":
            token_calls += 1
            if arrival.get("status") == 400:
                token_refused += 1  # invalid_grant: a spent refresh token was presented, the family is revoked
except OSError:
    pass
# A set marked for re-authorisation is the safe answer to a lost rotation; a refused refresh is not (the spent
# refresh token was presented again, and IRD revokes the whole family for that).
needs_authorisation = int(extra.pop("needs_authorisation", "0"))
revoked = token_refused

# Every return stored exactly once: no duplicate at the sandbox (a second File of a return is accepted-again or
# refused as identical), no job with two Files answered OK, every succeeded filing stored, and nothing stored for a
# job that ended neither succeeded nor cancelled.
stored_once = filings - duplicate_filings
succeeded_files = int(one("SELECT count(*) FROM tuku.jobs WHERE state = 'succeeded' AND kind = 'ird.ei.file'")[0])
unfiled_successes = max(0, succeeded_files - stored_once)
stored_for_failed = max(0, stored_once - succeeded_files - cancelled - (total - final))

# The evidence behind each failure, for whoever reads the scenario's directory afterwards.
details_path = extra.pop("details", "")
if details_path:
    with open(details_path, "w") as details:
        for title, sql in [
            ("cancelled then run (job, state, cancel requested, attempts: number outcome started)", """
                SELECT j.id, j.state, j.cancel_requested_at,
                       (SELECT string_agg(a.attempt || ' ' || a.outcome || ' ' || a.started_at, '; ' ORDER BY a.id)
                        FROM tuku.attempts a WHERE a.job_id = j.id)
                FROM tuku.jobs j WHERE j.cancel_requested_at IS NOT NULL ORDER BY j.id"""),
            ("unfinished jobs", """
                SELECT id, state, attempt, lease_owner, lease_expires_at, last_error->>'code' FROM tuku.jobs
                WHERE finished_at IS NULL ORDER BY id"""),
            ("gateway calls of jobs with more than one File", """
                SELECT job_id, id, attempt, purpose, action, http_status, transport_error, outcome,
                       gateway_status->0->>'code'
                FROM tuku.exchanges WHERE job_id IN (SELECT job_id FROM tuku.exchanges WHERE action LIKE '%/File'
                                                     GROUP BY job_id HAVING count(*) > 1)
                ORDER BY job_id, id"""),
            ("workers", "SELECT id, pid, state, started_at, heartbeat_at, stopped_at FROM tuku.workers ORDER BY id"),
        ]:
            details.write(f"== {title}\n")
            for row in rows(sql):
                details.write("  " + " | ".join(row) + "\n")

failures = []
if final != total:
    failures.append(f"unfinished={total - final}")
if stuck:
    failures.append(f"stuck={stuck}")
if cancelled_then_run:
    failures.append(f"cancelled_then_run={cancelled_then_run}")
if duplicate_filings or duplicates_refused or jobs_filed_twice:
    failures.append(f"second_filings={duplicate_filings + duplicates_refused} jobs_filed_twice={jobs_filed_twice}")
if refiled_without_check:
    failures.append(f"refiled_without_check={refiled_without_check}")
if unfiled_successes:
    failures.append(f"succeeded_without_stored_return={unfiled_successes}")
if stored_for_failed:
    failures.append(f"stored_for_unsucceeded_jobs={stored_for_failed}")
if revoked:
    failures.append(f"revoked={revoked}")
for key in ("overdue_exits", "hostile_wrong", "long_log_lines", "wedged_workers"):
    if extra.get(key, "0") not in ("0", ""):
        failures.append(f"{key}={extra[key]}")
for key, value in extra.items():
    if key.startswith("fail_") and value:
        failures.append(value)

line = (f"chaos: {name} jobs={total} final={final} succeeded={succeeded} rejected={rejected} dead={dead} "
        f"cancelled={cancelled} cancels={cancels} stored_once={stored_once} second_filings={duplicate_filings + duplicates_refused} "
        f"refiled_without_check={refiled_without_check} stuck={stuck} cancelled_then_run={cancelled_then_run} "
        f"revoked={revoked} needs_authorisation={needs_authorisation} token_calls={token_calls} cancelled_after_filing={max(0, stored_once - succeeded_files)}")
for key, value in extra.items():
    if not key.startswith("fail_"):
        line += f" {key}={value}"
print(line + (" ok" if not failures else " FAIL " + " ".join(failures)))
sys.exit(1 if failures else 0)
