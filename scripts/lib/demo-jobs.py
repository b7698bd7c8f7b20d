"""Writes the demo's jobs as JSON Lines: IRD filings built from the examples in jobs/, each employer with its
own valid IRD number (so the sandbox sees distinct returns, not duplicates), plus three bad rows that must end
`rejected`. Usage: demo-jobs.py COUNT > jobs.jsonl"""
import json
import pathlib
import sys

PRIMARY = (3, 2, 7, 6, 5, 4, 3, 2)
SECONDARY = (7, 4, 3, 2, 5, 2, 7, 6)


def check_digit(base: int, weights) -> int:
    digits = [int(d) for d in f"{base:08d}"]
    remainder = sum(d * w for d, w in zip(digits, weights)) % 11
    return 0 if remainder == 0 else 11 - remainder


def ird_number(seed: int) -> str:
    """The seed-th valid IRD number from 20,000,000 up (IRD's mod-11 check with the secondary weights)."""
    base = 2_000_000 + seed * 7
    while True:
        digit = check_digit(base, PRIMARY)
        if digit == 10:
            digit = check_digit(base, SECONDARY)
        if digit != 10:
            number = base * 10 + digit
            if 10_000_000 <= number <= 150_000_000:
                return f"{number:09d}"
        base += 1


def examples(kind: str, names):
    return [json.loads((pathlib.Path("jobs") / kind / "examples" / f"{name}.json").read_text()) for name in names]


count = int(sys.argv[1])
files = examples("ird.ei.file", ["three-employees", "deductions", "nil-return"])
others = [("ird.ed.create", p) for p in examples("ird.ed.create", ["new-employee"])] + \
         [("ird.ed.update", p) for p in examples("ird.ed.update", ["new-tax-code-and-address"])] + \
         [("ird.ed.terminate", p) for p in examples("ird.ed.terminate", ["resignation"])]
for i in range(count):
    tenant = f"employer-{i % 12:02d}"
    if i % 10 == 9:
        kind, payload = others[(i // 10) % len(others)]
        if kind == "ird.ed.create":
            # A new employee each time: IRD refuses a second Create of a current employment (code 106).
            payload = dict(payload)
            payload["employeeIrdNumber"] = ird_number(500_000 + i)
    else:
        kind, payload = "ird.ei.file", dict(files[i % len(files)])
        payload["employerIrdNumber"] = ird_number(i)
    print(json.dumps({"kind": kind, "tenant": tenant, "payload": payload, "idempotency_key": f"demo-{i}"}))
# Bad rows: a return whose employer IRD number fails the check digit, one with a misspelt amount key (which would
# otherwise drop the amount from the filing), and a kind nobody defined.
bad = dict(files[0])
bad["employerIrdNumber"] = "49-091-851"
print(json.dumps({"kind": "ird.ei.file", "tenant": "employer-00", "payload": bad, "idempotency_key": "demo-bad-ird"}))
misspelt = json.loads(json.dumps(files[0]))
misspelt["employerIrdNumber"] = ird_number(900_000)
misspelt["lines"][0]["kiwisaverDeduction"] = misspelt["lines"][0].pop("kiwisaverDeductions")
print(json.dumps({"kind": "ird.ei.file", "tenant": "employer-02", "payload": misspelt, "idempotency_key": "demo-bad-key"}))
print(json.dumps({"kind": "ird.unknown", "tenant": "employer-01", "payload": {}, "idempotency_key": "demo-bad-kind"}))
