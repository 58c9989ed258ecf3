"""A small retailer's book: five households in four states, a flat and a time-of-use
tariff, both with 10 % GST. The customers, accounts, service points, meters and contracts
go in through the customer records service (the same checks as the API: NMI checksums,
BPAY check digits, one meter in one place), create-if-absent, so a second run changes
nothing (and never rewinds an account's billed-through date, which billing owns)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from shared.bootstrap import utc_now
from shared.customers.payment_reference import bpay_crn
from shared.customers.service import CustomerRecords, RecordExists
from shared.platform.documents import DocumentAlreadyExists, DocumentStore
from shared.resources import ACCOUNTS, TARIFFS

BILLING_MONTH_START = "2026-10-01"

FLAT_TARIFF: dict[str, Any] = {
    "id": "res-flat-2026",
    "tariffId": "res-flat-2026",
    "version": "2026-07-01",
    "name": "Residential Single Rate",
    "currency": "AUD",
    "effectiveFrom": "2026-07-01",
    "effectiveTo": None,
    "components": [
        {
            "id": "supply",
            "kind": "daily_supply",
            "description": "Daily supply charge",
            "rate": "1.0450",
            "taxCode": "GST",
        },
        {"id": "usage", "kind": "flat_energy", "description": "General usage", "rate": "0.3124", "taxCode": "GST"},
    ],
    "taxes": {"GST": "0.10"},
    "taxRounding": "per_invoice",
}

TOU_TARIFF: dict[str, Any] = {
    "id": "res-tou-2026",
    "tariffId": "res-tou-2026",
    "version": "2026-07-01",
    "name": "Residential Time of Use",
    "currency": "AUD",
    "effectiveFrom": "2026-07-01",
    "effectiveTo": None,
    "components": [
        {
            "id": "supply",
            "kind": "daily_supply",
            "description": "Daily supply charge",
            "rate": "1.1220",
            "taxCode": "GST",
        },
        {
            "id": "tou",
            "kind": "time_of_use",
            "taxCode": "GST",
            "periods": [
                {"id": "peak", "description": "Peak usage", "rate": "0.4862", "weekdays": [[15, 21]], "weekends": []},
                {
                    "id": "shoulder",
                    "description": "Shoulder usage",
                    "rate": "0.2915",
                    "weekdays": [[7, 15], [21, 22]],
                    "weekends": [[7, 22]],
                },
                {
                    "id": "offpeak",
                    "description": "Off-peak usage",
                    "rate": "0.1876",
                    "weekdays": [[0, 7], [22, 24]],
                    "weekends": [[0, 7], [22, 24]],
                },
            ],
        },
    ],
    "taxes": {"GST": "0.10"},
    "taxRounding": "per_invoice",
}

FLAT, TOU = FLAT_TARIFF["id"], TOU_TARIFF["id"]

# (account, customer name, e-mail, billing address, NMI, supply address, zone, meter kind, serial, tariff)
HOUSEHOLDS: list[tuple[str, str, str, tuple[str, ...], str, str, str, str, str, str]] = [
    ("ACC-100001", "Olivia Nguyen", "olivia.nguyen@example.com.au", ("14 Wattle Street", "Newtown NSW 2042"),
     "4102003311", "14 Wattle Street, Newtown NSW 2042", "Australia/Sydney", "register", "MTR-D110231", FLAT),
    ("ACC-100002", "Jack & Mia O'Brien", "obrien.family@example.com.au", ("PO Box 88", "Ballarat VIC 3350"),
     "6203778810", "7 Sturt Street, Ballarat VIC 3350", "Australia/Melbourne", "register", "MTR-V220814", FLAT),
    ("ACC-100003", "Harbourside Physio Pty Ltd", "accounts@harbourside-physio.example.com.au",
     ("Suite 2, 101 Beach Road", "Manly NSW 2095"),
     "4102009902", "Suite 2, 101 Beach Road, Manly NSW 2095", "Australia/Sydney", "interval", "MTR-S330051", TOU),
    ("ACC-100004", "Aarav Patel", "aarav.patel@example.com.au", ("3/22 Boundary Street", "West End QLD 4101"),
     "3120045577", "3/22 Boundary Street, West End QLD 4101", "Australia/Brisbane", "interval", "MTR-Q440092", TOU),
    ("ACC-100005", "Grace Williams", "grace.williams@example.com.au", ("58 Hobart Road", "Kings Meadows TAS 7249"),
     "8000112233", "58 Hobart Road, Kings Meadows TAS 7249", "Australia/Hobart", "register", "MTR-T550017", FLAT),
]  # fmt: skip


# Where each state's households are supplied: the network operator and the holiday region.
NETWORKS: dict[str, tuple[str, str, str]] = {
    "NSW": ("Ausgrid", "AU-NSW", "NSW"),
    "VIC": ("Powercor", "AU-VIC", "VIC-TAS"),
    "QLD": ("Energex", "AU-QLD", "QLD"),
    "TAS": ("TasNetworks", "AU-TAS", "VIC-TAS"),
}
# The small business among the households, with its ABN (check digits by python-stdnum).
BUSINESS_ABNS = {"ACC-100003": "18123456789"}
# When the meters went in: before the sample month, so its opening reads fall inside.
METERS_INSTALLED = "2026-07-01T00:00:00"

SEEDED_BY = "sample-utility"


def _create_if_absent(store: DocumentStore, container: str, doc: dict[str, Any]) -> bool:
    try:
        store.container(container).create(doc)
        return True
    except DocumentAlreadyExists:
        return False


def _new(create: Callable[[], object]) -> bool:
    try:
        create()
        return True
    except RecordExists:
        return False


def seed_sample_utility(store: DocumentStore, *, clock: Callable[[], datetime] = utc_now) -> int:
    """Load the sample book through the customer records service, as a branch or a migration
    would; returns how many records were new."""
    created = 0
    for tariff in (FLAT_TARIFF, TOU_TARIFF):
        created += _create_if_absent(store, TARIFFS.name, tariff)
    records = CustomerRecords(store, clock=clock)
    for account_id, name, email, billing, nmi, supply, zone, kind, serial, tariff_id in HOUSEHOLDS:
        legacy = store.container(ACCOUNTS.name).find(account_id, account_id)
        if legacy is not None and "kind" not in legacy:
            continue  # loaded as plain documents by an earlier version: billable as it is
        number = account_id.removeprefix("ACC-")
        customer_id = f"CUS-{number}"
        state = next(code for code in NETWORKS if f" {code} " in supply)
        operator, region, branch = NETWORKS[state]
        abn = BUSINESS_ABNS.get(account_id)
        customer: dict[str, Any] = {
            "customerId": customer_id,
            "partyKind": "organisation" if abn else "person",
            "name": name,
            "branch": branch,
            "segment": "small-business" if abn else "residential",
            "language": "en-AU",
            "deliveryChannel": "email",
            "contacts": [{"role": "primary", "email": email}],
            "taxIds": [{"scheme": "AU-ABN", "value": abn}] if abn else [],
        }
        created += _new(lambda c=customer: records.create_customer(c, by=SEEDED_BY))
        account = {
            "accountId": account_id,
            "customerId": customer_id,
            "country": "AU",
            "name": name,
            "email": email,
            "billingAddress": list(billing),
            "branch": branch,
            "paymentTermsDays": 14,
            "paymentReference": bpay_crn(f"7{number}"),
        }
        created += _new(lambda a=account: records.create_account(a, by=SEEDED_BY))
        point = {
            "servicePointId": nmi,
            "country": "AU",
            "address": supply,
            "timeZone": zone,
            "networkOperator": operator,
            "region": region,
        }
        created += _new(lambda p=point: records.create_service_point(p, by=SEEDED_BY))
        interval = kind == "interval"
        meter = {
            "serial": serial,
            "meterKind": "interval" if interval else "accumulation",
            "intervalMinutes": 30 if interval else None,
            "registers": [{"registerId": "E1", "unit": "kWh", "dialCount": 6 if interval else 5, "multiplier": "1"}],
        }
        created += _new(lambda m=meter: records.create_meter(m, by=SEEDED_BY))
        installed_at = datetime.fromisoformat(METERS_INSTALLED).replace(tzinfo=ZoneInfo(zone))
        before = records.meter(serial).revision
        after = records.install_meter(serial, service_point_id=nmi, at=installed_at, first_reads={}, by=SEEDED_BY)
        created += after.revision != before
        contract = {
            "contractId": f"CON-{number}",
            "accountId": account_id,
            "servicePointId": nmi,
            "contractKind": "sales",
            "tariffId": tariff_id,
            "start": BILLING_MONTH_START,
            "billingCycles": {"variable": "monthly", "fixed": "monthly"},
        }
        existing = records.contracts.find(contract["contractId"], nmi)
        records.create_contract(contract, by=SEEDED_BY)  # the same contract again is a no-op
        created += existing is None
    return created
