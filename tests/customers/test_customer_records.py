"""Customers, accounts and service points as records: what they accept, and every problem
of a bad one named by its field, all at once."""

from __future__ import annotations

import pytest

from shared.customers.account import Account
from shared.customers.customer import Customer
from shared.customers.errors import InvalidRecord
from shared.customers.service_point import ServicePoint

OLIVIA = {
    "customerId": "CUS-100001",
    "partyKind": "person",
    "name": "Olivia  Nguyen",
    "branch": "NSW",
    "segment": "residential",
    "language": "en-AU",
    "deliveryChannel": "email",
    "contacts": [{"role": "primary", "email": "olivia@example.com.au", "phone": "+61 412 345 678"}],
}


def problems(error: pytest.ExceptionInfo[InvalidRecord]) -> dict[str, str]:
    return {e.field: e.message for e in error.value.errors}


def test_a_customer_reads_back_cleaned():
    customer = Customer.from_document(OLIVIA)
    assert customer.name == "Olivia Nguyen"  # blanks collapsed
    assert customer.contacts[0].phone == "+61412345678"
    assert customer.delivery_email == "olivia@example.com.au"
    assert Customer.from_document(customer.to_document()) == customer


def test_an_organisation_with_valid_tax_ids_in_two_countries():
    harbourside = Customer.from_document(
        {
            **OLIVIA,
            "partyKind": "organisation",
            "name": "Harbourside Physio Pty Ltd",
            "segment": "small-business",
            "taxIds": [{"scheme": "AU-ABN", "value": "51 824 753 556"}, {"scheme": "NO-ORGNR", "value": "988077917"}],
        }
    )
    assert [(t.scheme, t.value) for t in harbourside.tax_ids] == [("AU-ABN", "51824753556"), ("NO-ORGNR", "988077917")]


def test_every_problem_of_a_bad_customer_is_named_at_once():
    bad = {
        **OLIVIA,
        "partyKind": "company",
        "language": "de-DE",
        "deliveryChannel": "fax",
        "contacts": [{"role": "primary", "email": "not-an-address"}, {"role": "billing", "phone": "0412 345 678"}],
        "taxIds": [{"scheme": "AU-ABN", "value": "51 824 753 557"}],
    }
    with pytest.raises(InvalidRecord) as raised:
        Customer.from_document(bad)
    found = problems(raised)
    assert set(found) == {
        "partyKind",
        "language",
        "deliveryChannel",
        "contacts.0.email",
        "contacts.1.phone",
        "taxIds.0.value",
    }
    assert "check digits do not add up" in found["taxIds.0.value"]
    assert "international form" in found["contacts.1.phone"]


def test_email_delivery_needs_an_email_contact_and_post_does_not():
    phone_only = {**OLIVIA, "contacts": [{"role": "primary", "phone": "+61412345678"}]}
    with pytest.raises(InvalidRecord) as raised:
        Customer.from_document(phone_only)
    assert list(problems(raised)) == ["deliveryChannel"]
    assert Customer.from_document({**phone_only, "deliveryChannel": "post"}).delivery_email is None
    # Reached by post only: no e-mail or phone at all is a customer too.
    assert Customer.from_document({**OLIVIA, "deliveryChannel": "post", "contacts": []}).contacts == ()
    with pytest.raises(InvalidRecord) as raised:
        Customer.from_document({**OLIVIA, "contacts": []})
    assert list(problems(raised)) == ["deliveryChannel"]


def test_contacts_need_a_way_to_reach_them_and_one_primary_at_most():
    with pytest.raises(InvalidRecord) as raised:
        Customer.from_document(
            {**OLIVIA, "contacts": [OLIVIA["contacts"][0], {"role": "primary", "name": "Tom"}, {"role": "boss"}]}
        )
    found = problems(raised)
    assert "contacts.1.email" in found and "contacts.2.role" in found and "contacts" in found


def test_life_support_means_never_disconnected_for_debt():
    assert Customer.from_document(OLIVIA).may_disconnect_for_debt
    assert not Customer.from_document({**OLIVIA, "lifeSupport": True}).may_disconnect_for_debt
    with pytest.raises(InvalidRecord) as raised:
        Customer.from_document({**OLIVIA, "lifeSupport": "yes"})
    assert list(problems(raised)) == ["lifeSupport"]


ACCOUNT = {
    "accountId": "ACC-100001",
    "customerId": "CUS-100001",
    "country": "AU",
    "name": "Olivia Nguyen",
    "email": None,
    "billingAddress": ["14 Wattle Street", "Newtown NSW 2042"],
    "branch": "NSW",
    "paymentTermsDays": 14,
    "paymentReference": "71000012",
}


def test_an_account_checks_its_payment_reference_by_its_country():
    account = Account.from_document(ACCOUNT)
    assert (account.currency, account.payment_reference, account.email) == ("AUD", "71000012", None)
    with pytest.raises(InvalidRecord) as raised:
        Account.from_document({**ACCOUNT, "paymentReference": "71000019"})
    assert "check digit should be 2" in problems(raised)["paymentReference"]
    norwegian = Account.from_document({**ACCOUNT, "country": "NO", "paymentReference": "12345674"})
    assert norwegian.currency == "NOK"


def test_a_bad_account_names_each_field():
    with pytest.raises(InvalidRecord) as raised:
        Account.from_document(
            {**ACCOUNT, "billingAddress": [], "paymentTermsDays": 120, "country": "DE", "email": "x@", "branch": "N/SW"}
        )
    assert set(problems(raised)) == {"billingAddress", "paymentTermsDays", "country", "email", "branch"}


SUPPLY = {
    "servicePointId": "41020033117",
    "country": "AU",
    "address": "14 Wattle Street, Newtown NSW 2042",
    "timeZone": "Australia/Sydney",
    "networkOperator": "Ausgrid",
    "region": "AU-NSW",
}


def test_a_service_point_keeps_the_nmi_without_its_checksum():
    point = ServicePoint.from_document(SUPPLY)
    assert (point.service_point_id, point.scheme, point.checksum) == ("4102003311", "NMI", 7)
    assert ServicePoint.from_document(point.to_document()) == point


def test_a_service_point_refuses_a_bad_checksum_zone_and_region():
    with pytest.raises(InvalidRecord) as raised:
        ServicePoint.from_document(
            {**SUPPLY, "servicePointId": "41020033118", "timeZone": "Europe/Warsaw", "region": "PL"}
        )
    found = problems(raised)
    assert "AEMO checksum of 4102003311 is 7" in found["servicePointId"]
    assert "not a time zone in AU" in found["timeZone"]
    assert "not a region of AU" in found["region"]
    with pytest.raises(InvalidRecord) as raised:
        ServicePoint.from_document({**SUPPLY, "timeZone": "Australia/Atlantis"})
    assert "not an IANA time zone" in problems(raised)["timeZone"]


def test_polish_and_norwegian_service_points():
    warsaw = ServicePoint.from_document(
        {**SUPPLY, "servicePointId": "590508800000000016", "country": "PL", "timeZone": "Europe/Warsaw", "region": "PL"}
    )
    assert warsaw.scheme == "PPE"
    oslo = ServicePoint.from_document(
        {**SUPPLY, "servicePointId": "707057500012345671", "country": "NO", "timeZone": "Europe/Oslo", "region": "NO"}
    )
    assert oslo.scheme == "NO-MPID"


@pytest.mark.parametrize("name", ['=HYPERLINK("http://evil.example","Click")', "+61 cmd", "@SUM(A1)", "-2+3"])
def test_text_a_spreadsheet_would_run_as_a_formula_is_refused(name):
    with pytest.raises(InvalidRecord) as raised:
        Customer.from_document({**OLIVIA, "name": name, "tradingName": name})
    assert set(problems(raised)) == {"name", "tradingName"}
    assert "formula" in problems(raised)["name"]


def test_markup_in_a_name_is_kept_as_text_for_the_invoice_to_escape():
    assert Customer.from_document({**OLIVIA, "name": "<script>alert(1)</script> {{7*7}}"}).name.startswith("<script>")
