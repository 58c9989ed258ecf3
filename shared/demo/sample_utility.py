"""A small retailer's book: five households in three states, a flat and a time-of-use
tariff, both with 10 % GST. Loaded create-if-absent, so a second run changes nothing
(and never rewinds an account's billed-through date)."""

from __future__ import annotations

from typing import Any

from shared.platform.documents import DocumentAlreadyExists, DocumentStore
from shared.resources import ACCOUNTS, CUSTOMERS, SERVICE_POINTS, TARIFFS

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


def _create_if_absent(store: DocumentStore, container: str, doc: dict[str, Any]) -> bool:
    try:
        store.container(container).create(doc)
        return True
    except DocumentAlreadyExists:
        return False


def seed_sample_utility(store: DocumentStore) -> int:
    """Load the sample book; returns how many records were new."""
    created = 0
    for tariff in (FLAT_TARIFF, TOU_TARIFF):
        created += _create_if_absent(store, TARIFFS.name, tariff)
    for account_id, name, email, billing, nmi, supply, zone, kind, serial, tariff_id in HOUSEHOLDS:
        customer_id = account_id.replace("ACC", "CUS")
        created += _create_if_absent(
            store, CUSTOMERS.name,
            {"id": customer_id, "customerId": customer_id, "name": name, "email": email, "preferredChannel": "email"},
        )  # fmt: skip
        created += _create_if_absent(
            store,
            SERVICE_POINTS.name,
            {
                "id": nmi,
                "servicePointId": nmi,
                "address": supply,
                "timeZone": zone,
                "meterKind": kind,
                "meterSerial": serial,
                "registerId": "E1",
            },
        )
        created += _create_if_absent(
            store,
            ACCOUNTS.name,
            {
                "id": account_id,
                "accountId": account_id,
                "customerId": customer_id,
                "name": name,
                "email": email,
                "billingAddress": list(billing),
                "paymentReference": account_id.replace("ACC-", "7") + "9",
                "servicePointId": nmi,
                "tariffId": tariff_id,
                "branch": "NSW" if "NSW" in supply else "VIC-TAS" if ("VIC" in supply or "TAS" in supply) else "QLD",
                "billingCycle": "monthly",
                "billedThrough": BILLING_MONTH_START,
                "paymentTermsDays": 14,
            },
        )
    return created
