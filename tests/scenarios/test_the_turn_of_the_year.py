"""The turn of the year in Hobart. November 2027 is billed on 1 December (a 2027 invoice),
December on 1 January 2028 (a 2028 invoice). A technician replaces a meter box on New Year's
Eve and the job is reported on 2 January; January is billed on 1 February.

Every document issued in 2028 is numbered in 2028's series, in the order it was issued: the
2027 register was closed when the year ended and nothing joins it afterwards."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from shared.catalog.product import new_product
from shared.catalog.service import CatalogService
from shared.invoicing.numbering import InvoiceNumbering
from shared.resources import NUMBERING
from tests.scenarios.support import BILL_CYCLE_AT, HOBART_REGISTER, at_utc, days, story_on_its_own_platform

NOVEMBER, FEBRUARY = date(2027, 11, 1), date(2028, 2, 1)
REPORTED = datetime.fromisoformat("2028-01-02T00:30:00+00:00")  # 11:30 on 2 January in Hobart
JOB = {
    "workId": "WO-2027-1231",
    "kind": "maintenance",
    "completedOn": "2027-12-31",
    "items": [{"productId": "LAB-HOUR", "quantity": "2"}],
}


@pytest.fixture(scope="module")
def year_end(tmp_path_factory):
    from fastapi.testclient import TestClient

    from shared.api.app import create_app

    with story_on_its_own_platform(
        tmp_path_factory.mktemp("year-end"),
        starts=datetime.fromisoformat("2027-11-20T00:00:00+00:00"),
        accounts=(HOBART_REGISTER,),
        real_pdfs=False,
    ) as story:
        story.billed_through(NOVEMBER)
        story.meter_data(first=NOVEMBER, last=FEBRUARY)
        catalog = CatalogService(story.documents, clock=story.clock)
        labour = new_product(
            product_id="LAB-HOUR",
            name="Technician labour",
            kind="service",
            unit="hour",
            tax_code="GST",
            price="95.00",
            active_from=date(2027, 1, 1),
            currency="AUD",
        )
        catalog.create(labour, by="scenario")
        for day in days(date(2027, 11, 28), date(2028, 1, 1)):
            story.bill_cycle(at_utc(day, BILL_CYCLE_AT))
        story.clock.now = REPORTED
        with TestClient(create_app()) as api:
            response = api.post(f"/v1/accounts/{HOBART_REGISTER}/completed-work", json=JOB)
        assert response.status_code == 201, response.text
        story.platform.bus.drain()
        for day in days(date(2028, 1, 2), date(2028, 2, 2)):
            story.bill_cycle(at_utc(day, BILL_CYCLE_AT))
        yield story


def documents(story) -> list[tuple[str, str, str]]:
    """(number, issue date, what it bills) of every issued document, by number."""
    return [(d["number"], d["issueDate"], d["periodStart"]) for d in story.issued()]


def test_the_cycle_invoices_are_numbered_in_their_issue_years_series(year_end):
    cycle = [doc for doc in documents(year_end) if doc[2] in ("2027-11-01", "2027-12-01", "2028-01-01")]
    assert [(number[:8], issued) for number, issued, _ in cycle] == [
        ("INV-2027", "2027-12-01"),
        ("INV-2028", "2028-01-01"),
        ("INV-2028", "2028-02-01"),
    ]


def test_work_done_on_new_years_eve_and_reported_in_january_is_a_2028_invoice(year_end):
    assert documents(year_end) == [
        ("INV-2027-000001", "2027-12-01", "2027-11-01"),
        ("INV-2028-000001", "2028-01-01", "2027-12-01"),
        ("INV-2028-000002", "2028-01-02", "2027-12-31"),  # the job, priced at its completion day
        ("INV-2028-000003", "2028-02-01", "2028-01-01"),
    ]
    register = InvoiceNumbering(year_end.documents.container(NUMBERING.name)).register("INV-2027")
    assert [entry["number"] for entry in register] == ["INV-2027-000001"]
