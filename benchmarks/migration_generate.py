"""A generated old-system export for the migration benchmark (issue 3): customers, accounts,
service points, meters, contracts, opening balances and, optionally, register reads, in the
layouts of ``shared/customers/migration_files.py``.

Deterministic: household ``i`` is the same for a given seed whatever ``--customers`` is.
Australian households in five states, valid NMI checksums (half written with their
checksum character), valid BPAY references, valid ABNs for the businesses. A small share of
households carries one deliberate fault each, cycling through seven kinds (``FAULTS``); the
generator also returns the counts the migration must report for a first run into an empty
store, so the benchmark checks the migration's answer, not only its speed.

    .venv/bin/python -m benchmarks.migration_generate --customers 50000 --out benchmarks/data/migration_50000
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from stdnum.au import abn

from shared.customers import migration_files as layouts
from shared.customers.metering_ids import nmi_checksum
from shared.customers.payment_reference import bpay_crn

FAULT_EVERY = 149  # one household in 149 carries a fault (0.67 %)
FAULTS = (
    "bad-nmi-checksum",  # service point refused; its meter and contract follow
    "bad-bpay-check-digit",  # account refused; its contract and opening balance follow
    "unknown-tariff",  # contract refused
    "overlapping-contract",  # an extra contract at the same service point, refused
    "meter-on-two-service-points",  # an extra meter row: the previous household's meter here too
    "bad-email",  # customer refused; its account, contract and opening balance follow
    "three-decimal-balance",  # opening balance refused
)

# state: (NMI prefix, time zone, network operator, holiday region)
STATES = {
    "NSW": ("41", "Australia/Sydney", "Ausgrid", "AU-NSW"),
    "VIC": ("62", "Australia/Melbourne", "Powercor", "AU-VIC"),
    "QLD": ("31", "Australia/Brisbane", "Energex", "AU-QLD"),
    "SA": ("20", "Australia/Adelaide", "SA Power Networks", "AU-SA"),
    "TAS": ("80", "Australia/Hobart", "TasNetworks", "AU-TAS"),
}
STATE_WEIGHTS = (32, 26, 20, 14, 8)
FIRST = ["Olivia", "Jack", "Mia", "Noah", "Aarav", "Grace", "Liam", "Chloe", "Lucas", "Zoë", "Ethan", "Amelia"]
LAST = ["Nguyen", "Smith", "Jones", "Williams", "Brown", "Patel", "O'Brien", "Wilson", "Taylor", "Kowalski", "Lee"]
STREETS = ["Wattle Street", "Beach Road", "Sturt Street", "Boundary Street", "Hobart Road", "King Street"]
TARIFFS = ("res-flat-2026", "res-tou-2026")  # the sample utility's, seeded by the benchmark


@dataclass
class Expected:
    """What a first run into an empty store must report: (source rows, loaded, refused)."""

    rows: dict[str, list[int]] = field(default_factory=lambda: {e.entity: [0, 0, 0] for e in layouts.LAYOUTS})

    def add(self, entity: str, loaded: bool) -> None:
        counts = self.rows[entity]
        counts[0] += 1
        counts[1 if loaded else 2] += 1

    def to_json(self) -> dict[str, Any]:
        return {e: {"sourceRows": r[0], "loaded": r[1], "refused": r[2]} for e, r in self.rows.items()}


def _nmi(state: str, number: int) -> str:
    return f"{STATES[state][0]}{number:08d}"


def generate(out: Path, customers: int, *, seed: int = 2026, reads_per_meter: int = 0) -> Expected:
    out.mkdir(parents=True, exist_ok=True)
    expected = Expected()
    writers: dict[str, Any] = {}
    handles = []
    for layout in layouts.LAYOUTS:
        handle = (out / layout.file).open("w", newline="", encoding="utf-8")
        handles.append(handle)
        writers[layout.entity] = csv.DictWriter(handle, fieldnames=list(layout.columns))
        writers[layout.entity].writeheader()
    try:
        previous: tuple[str, str] | None = None  # the last household's (serial, NMI)
        for i in range(1, customers + 1):
            rng = random.Random(seed * 1_000_003 + i)
            fault = FAULTS[(i // FAULT_EVERY) % len(FAULTS)] if i % FAULT_EVERY == 0 else None
            previous = _household(writers, expected, rng, i, fault, previous, reads_per_meter)
    finally:
        for handle in handles:
            handle.close()
    (out / "expected.json").write_text(json.dumps({"customers": customers, "seed": seed, **expected.to_json()}))
    return expected


def _household(
    w: dict[str, Any],
    expected: Expected,
    rng: random.Random,
    i: int,
    fault: str | None,
    previous: tuple[str, str] | None,
    reads_per_meter: int,
) -> tuple[str, str]:
    state = rng.choices(list(STATES), STATE_WEIGHTS)[0]
    _, zone, operator, region = STATES[state]
    customer_id, account_id, serial, contract_id = f"C{i:07d}", f"A{i:07d}", f"M{i:08d}", f"K{i:07d}"
    business = rng.random() < 0.05
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    if business:
        name = f"{rng.choice(LAST)} {rng.choice(['Physio', 'Bakery', 'Motors', 'Dental'])} Pty Ltd"
    by_email = rng.random() < 0.8
    email = f"{customer_id.lower()}@example.com.au" if by_email else ""
    if fault == "bad-email":
        email = f"{customer_id.lower()}@@example.com.au"
    digits = f"{rng.randrange(10**8, 10**9)}"
    w["customers"].writerow(
        {
            "customerId": customer_id,
            "partyKind": "organisation" if business else "person",
            "name": name,
            "branch": state,
            "segment": "small-business" if business else "residential",
            "language": "en-AU",
            "deliveryChannel": "email" if by_email else "post",
            "email": email,
            "phone": "" if by_email else f"+61 2 {rng.randrange(10**7, 10**8)}",
            "taxScheme": "AU-ABN" if business else "",
            "taxId": abn.calc_check_digits(digits) + digits if business else "",
            "hardshipProgram": "true" if rng.random() < 0.02 else "false",
            "lifeSupport": "true" if rng.random() < 0.01 else "",
        }
    )
    customer_ok = fault != "bad-email"
    expected.add("customers", customer_ok)

    reference = bpay_crn(f"1{i:07d}")
    if fault == "bad-bpay-check-digit":
        reference = reference[:-1] + str((int(reference[-1]) + 1) % 10)
    street = f"{rng.randrange(1, 300)} {rng.choice(STREETS)}"
    w["accounts"].writerow(
        {
            "accountId": account_id,
            "customerId": customer_id,
            "country": "AU",
            "name": name,
            "email": "",
            "billingAddress1": street,
            "billingAddress2": f"Suburb {state} {rng.randrange(2000, 7999)}",
            "branch": state,
            "paymentTermsDays": "14",
            "paymentReference": reference,
        }
    )
    account_ok = customer_ok and fault != "bad-bpay-check-digit"
    expected.add("accounts", account_ok)

    nmi = _nmi(state, i)
    written = nmi + str(nmi_checksum(nmi)) if i % 2 else nmi
    if fault == "bad-nmi-checksum":
        written = nmi + str((nmi_checksum(nmi) + 1) % 10)
    w["servicePoints"].writerow(
        {
            "servicePointId": written,
            "country": "AU",
            "address": f"{street}, Suburb {state}",
            "timeZone": zone,
            "networkOperator": operator,
            "region": region,
        }
    )
    point_ok = fault != "bad-nmi-checksum"
    expected.add("servicePoints", point_ok)

    interval = rng.random() < 0.3
    w["meters"].writerow(
        {
            "serial": serial,
            "servicePointId": nmi,
            "meterKind": "interval" if interval else "accumulation",
            "intervalMinutes": "30" if interval else "",
            "registers": "E1:kWh:6;B1:kWh:6" if interval else "E1:kWh:5",
            "installedAt": f"20{rng.randrange(15, 25)}-0{rng.randrange(1, 10)}-01",
        }
    )
    expected.add("meters", point_ok)
    if fault == "meter-on-two-service-points" and previous is not None:
        w["meters"].writerow({**_meter_row(previous[0]), "servicePointId": nmi, "installedAt": "2026-01-01"})
        expected.add("meters", False)

    start = f"2025-{rng.randrange(1, 13):02d}-01"
    contract = {
        "contractId": contract_id,
        "accountId": account_id,
        "servicePointId": nmi,
        "contractKind": "sales",
        "tariffId": "res-gold-2026" if fault == "unknown-tariff" else rng.choice(TARIFFS),
        "networkTariff": "EA025" if state == "NSW" else "",
        "start": start,
        "end": "",
        "variableCycle": "monthly",
        "fixedCycle": rng.choice(["monthly", "quarterly"]),
    }
    w["contracts"].writerow(contract)
    expected.add("contracts", account_ok and point_ok and fault != "unknown-tariff")
    if fault == "overlapping-contract":
        w["contracts"].writerow({**contract, "contractId": f"K{i:07d}X", "start": "2026-01-01"})
        expected.add("contracts", False)

    cents = rng.randrange(-20_000, 200_000)
    amount = f"{Decimal(cents).scaleb(-2):f}" + ("5" if fault == "three-decimal-balance" else "")
    w["openingBalances"].writerow({"accountId": account_id, "asOf": "2026-09-30", "amount": amount, "currency": "AUD"})
    expected.add("openingBalances", account_ok and fault != "three-decimal-balance")

    for n in range(reads_per_meter):
        w["readings"].writerow(
            {
                "meterSerial": serial,
                "register": "E1",
                "readAt": f"2026-{7 + n % 3:02d}-{1 + n // 3:02d}T09:00:00+10:00",
                "value": str(10_000 + 300 * n + rng.randrange(300)),
                "readType": "actual",
                "readerId": "MIGRATED",
            }
        )
        expected.add("readings", point_ok)
    return serial, nmi


def _meter_row(serial: str) -> dict[str, str]:
    return {"serial": serial, "meterKind": "accumulation", "intervalMinutes": "", "registers": "E1:kWh:5"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=500_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reads-per-meter", type=int, default=0)
    args = parser.parse_args(argv)
    expected = generate(args.out, args.customers, seed=args.seed, reads_per_meter=args.reads_per_meter)
    print(json.dumps(expected.to_json(), indent=2))


if __name__ == "__main__":
    main()
