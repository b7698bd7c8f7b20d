"""Writes the demo's jobs as JSON Lines: IRD filings built from the examples in jobs/, each employer with its
own valid IRD number (so the sandbox sees distinct returns, not duplicates), plus three bad rows that must end
`rejected`; with HMRC_COUNT, also that many HMRC VAT returns (each VRN and period its own return) and
obligations queries for the VAT clients vat-client-00..03, plus two bad VAT rows.
Usage: demo-jobs.py COUNT [HMRC_COUNT] > jobs.jsonl"""
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

hmrc_count = int(sys.argv[2]) if len(sys.argv) > 2 else 0


def vrn(seed: int) -> str:
    return f"{100_000_000 + seed:09d}"


def vat_return(i: int) -> dict:
    """The example return with a VRN and period key of its own and boxes that vary but still add up."""
    payload = json.loads((pathlib.Path("jobs") / "hmrc.vat.return" / "examples" / "web-app-credit.json").read_text())
    sales = 10_000 + i * 137  # pence
    acquisitions = 2_500 + (i % 7) * 11
    reclaimed = 4_000 + (i % 5) * 250
    total = sales + acquisitions
    payload.update({
        "vrn": vrn(i % 20), "periodKey": f"26A{i // 20 + 1}" if i < 180 else f"26B{(i - 180) // 20 + 1}",
        "vatDueSales": f"{sales / 100:.2f}", "vatDueAcquisitions": f"{acquisitions / 100:.2f}",
        "totalVatDue": f"{total / 100:.2f}", "vatReclaimedCurrPeriod": f"{reclaimed / 100:.2f}",
        "netVatDue": f"{abs(total - reclaimed) / 100:.2f}",
    })
    return payload


if hmrc_count:
    for i in range(hmrc_count):
        tenant = f"vat-client-{i % 4:02d}"
        if i % 10 == 9:
            obligations = json.loads(
                (pathlib.Path("jobs") / "hmrc.vat.obligations" / "examples" / "open-web-app.json").read_text())
            obligations["vrn"] = vrn(i % 20)
            print(json.dumps({"kind": "hmrc.vat.obligations", "tenant": tenant, "payload": obligations,
                              "idempotency_key": f"demo-hmrc-{i}"}))
        else:
            print(json.dumps({"kind": "hmrc.vat.return", "tenant": tenant, "payload": vat_return(i),
                              "idempotency_key": f"demo-hmrc-{i}"}))
    # Bad VAT rows: box 3 that is not box 1 + box 2 (HMRC's VAT_TOTAL_VALUE), and a user session without the
    # device id HMRC's fraud prevention headers require (refused before any call, naming the header).
    wrong_total = vat_return(hmrc_count + 1)
    wrong_total["totalVatDue"] = "1.00"
    print(json.dumps({"kind": "hmrc.vat.return", "tenant": "vat-client-00", "payload": wrong_total,
                      "idempotency_key": "demo-hmrc-bad-total"}))
    no_device = vat_return(hmrc_count + 2)
    del no_device["fraudPrevention"]["deviceID"]
    print(json.dumps({"kind": "hmrc.vat.return", "tenant": "vat-client-01", "payload": no_device,
                      "idempotency_key": "demo-hmrc-bad-device"}))
