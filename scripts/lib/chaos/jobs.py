"""SQL for scripts/chaos: good ird.ei.file jobs (each employer its own valid IRD number, so the sandbox sees
distinct returns and any second filing of one shows as a duplicate) and, with --hostile DIR, one file per hostile
row (each inserted on its own, so that a refused row does not take the others with it).

Usage: jobs.py COUNT TENANTS PREFIX > good.sql;  jobs.py --hostile DIR PREFIX
"""
import json
import pathlib
import sys

PRIMARY = (3, 2, 7, 6, 5, 4, 3, 2)
SECONDARY = (7, 4, 3, 2, 5, 2, 7, 6)


def check_digit(base, weights):
    digits = [int(d) for d in f"{base:08d}"]
    remainder = sum(d * w for d, w in zip(digits, weights)) % 11
    return 0 if remainder == 0 else 11 - remainder


def ird_number(seed):
    """A valid IRD number for each seed (IRD's mod-11 check with the secondary weights); never 49-091-850."""
    base = 3_000_000 + seed * 7
    while True:
        digit = check_digit(base, PRIMARY)
        if digit == 10:
            digit = check_digit(base, SECONDARY)
        if digit != 10:
            number = base * 10 + digit
            if 10_000_000 <= number <= 150_000_000:
                return f"{number:09d}"
        base += 1


def literal(text):
    return "'" + text.replace("'", "''") + "'"


def example(name):
    return json.loads((pathlib.Path("jobs") / "ird.ei.file" / "examples" / f"{name}.json").read_text())


def insert(kind, tenant, payload_text, key, extra_columns=None):
    columns = ["kind", "tenant", "payload", "idempotency_key"]
    values = [literal(kind), literal(tenant), literal(payload_text) + "::jsonb", literal(key)]
    for column, value in (extra_columns or {}).items():
        columns.append(column)
        values.append(value)
    return f"INSERT INTO tuku.jobs ({', '.join(columns)}) VALUES ({', '.join(values)});\n"


EXAMPLES = ["three-employees", "deductions", "nil-return"]

if sys.argv[1] == "--hostile":
    out, prefix = pathlib.Path(sys.argv[2]), sys.argv[3]
    out.mkdir(parents=True, exist_ok=True)
    base = example("three-employees")

    def payload(**changes):
        p = json.loads(json.dumps(base))
        p.update(changes)
        return json.dumps(p)

    nested = "{}"
    for _ in range(600):
        nested = '{"a":' + nested + "}"
    deep = json.loads(json.dumps(base))
    deep_text = json.dumps(deep)[:-1] + ',"extra":' + nested + "}"
    huge = payload(employerIrdNumber=ird_number(990_001), contactName="x" * (2 * 1024 * 1024))
    unknown = json.loads(json.dumps(base))
    unknown["employerIrdNumber"] = ird_number(990_002)
    unknown["lines"][0]["kiwisaverDeduction"] = unknown["lines"][0].pop("kiwisaverDeductions")
    unknown["surprise"] = True
    rows = {
        # The good twin of the two bad spellings below: a return for employer 49-091-850 that must be filed once.
        "good-49091850": insert("ird.ei.file", "employer-00", payload(employerIrdNumber="049091850"), f"{prefix}good-49091850"),
        "ird-negative": insert("ird.ei.file", "employer-01", payload(employerIrdNumber="-49091850"), f"{prefix}ird-negative"),
        "ird-double-dashes": insert("ird.ei.file", "employer-02", payload(employerIrdNumber="49--091--850"), f"{prefix}ird-double-dashes"),
        "ird-json-number": insert("ird.ei.file", "employer-03", payload(employerIrdNumber=int(ird_number(990_003))), f"{prefix}ird-json-number"),
        "unknown-keys": insert("ird.ei.file", "employer-04", json.dumps(unknown), f"{prefix}unknown-keys"),
        "kind-newline": insert("ird.ei.file\nlevel=critical forged log line", "employer-05",
                               payload(employerIrdNumber=ird_number(990_004)), f"{prefix}kind-newline"),
        "kind-huge": insert("ird." + "k" * (1024 * 1024), "employer-06", payload(employerIrdNumber=ird_number(990_005)), f"{prefix}kind-huge"),
        "attempt-100": insert("ird.ei.file", "employer-07", payload(employerIrdNumber=ird_number(990_006)), f"{prefix}attempt-100",
                              {"attempt": "100"}),
        "lease-owner": insert("ird.ei.file", "employer-08", payload(employerIrdNumber=ird_number(990_007)), f"{prefix}lease-owner",
                              {"lease_owner": "424242"}),
        "deeply-nested": insert("ird.ei.file", "employer-09", deep_text, f"{prefix}deeply-nested"),
        "huge-payload": insert("ird.ei.file", "employer-10", huge, f"{prefix}huge-payload"),
    }
    for name, sql in rows.items():
        (out / f"{name}.sql").write_text(sql)
    sys.exit(0)

count, tenants, prefix = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
files = [example(name) for name in EXAMPLES]
for i in range(count):
    p = dict(files[i % len(files)])
    p["employerIrdNumber"] = ird_number(i)
    sys.stdout.write(insert("ird.ei.file", f"employer-{i % tenants:02d}", json.dumps(p), f"{prefix}{i}"))
