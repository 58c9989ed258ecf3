"""Reliability item 27: a draft stranded with a number is voided; the number stays in the
register as voided, is never reused, and the period is billed afresh with the next number."""

from __future__ import annotations

from datetime import date

import pytest

from shared.demo.sample_utility import seed_sample_utility
from shared.invoicing.invoice import Invoice
from shared.resources import INVOICES
from tests.invoicing.test_bill_runs import load_month_data

AS_OF = "2026-11-02T09:00:00+00:00"
STUCK = "ACC-100001"


@pytest.fixture
def stranded(platform, api, monkeypatch):
    """ACC-100001's bill takes a number, then fails on every delivery and is dead-lettered."""
    seed_sample_utility(platform.documents)
    load_month_data(platform, first=date(2026, 9, 30), months=[date(2026, 10, 1), date(2026, 11, 1)])
    real_issue = Invoice.issue

    def fails_after_numbering(self, **kwargs):
        if self.account_id == STUCK:
            raise RuntimeError("the draft cannot be issued (bad data)")
        return real_issue(self, **kwargs)

    monkeypatch.setattr(Invoice, "issue", fails_after_numbering)
    body = {"asOf": AS_OF, "accountIds": [STUCK, "ACC-100002"], "runId": "nov"}
    assert api.post("/v1/bill-runs", json=body).status_code == 202
    platform.bus.drain()
    assert [d.message_id for d in platform.bus.dead_letters()] == ["bill:ACC-100001:2026-10-01:2026-11-01"]
    monkeypatch.undo()
    return platform


def issued(platform) -> list[dict]:
    return [d for d in platform.documents.container(INVOICES.name).query() if d["status"] not in ("draft", "void")]


def register(api) -> list[dict]:
    return api.get("/v1/numbering/INV-2026").json()["numbers"]


def test_the_stranded_number_is_voided_in_the_register_and_the_period_billed_with_the_next(stranded, api):
    held = [n for n in register(api) if n["invoiceId"] == f"{STUCK}:2026-10-01"]
    assert len(held) == 1 and "voided" not in held[0]
    assert {d["accountId"] for d in issued(stranded)} == {"ACC-100002"}  # the gap nobody can explain yet

    url = f"/v1/accounts/{STUCK}/drafts/{STUCK}:2026-10-01/void"
    answer = api.post(
        url,
        json={"reason": "meter data loaded to the wrong NMI"},
        headers={"X-MS-CLIENT-PRINCIPAL-NAME": "ops@utility"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "invoiceId": f"{STUCK}:2026-10-01",
        "voidedNumber": held[0]["number"],
        "alreadyVoided": False,
    }
    again = api.post(url, json={"reason": "meter data loaded to the wrong NMI"})
    assert again.json()["alreadyVoided"] is True

    # Replaying the dead letter bills the period afresh, under the next revision and number.
    stranded.bus.replay_dead_letters(None)
    stranded.bus.drain()
    [rebilled] = [d for d in issued(stranded) if d["accountId"] == STUCK]
    assert rebilled["id"] == f"{STUCK}:2026-10-01:r2" and rebilled["number"] != held[0]["number"]

    numbers = register(api)
    voided = [n for n in numbers if n.get("voided")]
    assert [(n["number"], n["voidReason"], n["voidedBy"]) for n in voided] == [
        (held[0]["number"], "meter data loaded to the wrong NMI", "ops@utility")
    ]
    # Every number is either issued on exactly one invoice or voided: the sequence is explained.
    issued_numbers = sorted(d["number"] for d in issued(stranded))
    assert sorted(n["number"] for n in numbers if not n.get("voided")) == issued_numbers
    assert [n["sequence"] for n in numbers] == list(range(1, len(numbers) + 1))
    docs = stranded.documents.container(INVOICES.name).query(partition=STUCK)
    assert sorted(d["status"] for d in docs) == ["issued", "void"] or sorted(d["status"] for d in docs) == [
        "sent",
        "void",
    ]


def test_an_issued_invoice_is_never_voided_and_unknown_drafts_are_404(stranded, api):
    [other] = issued(stranded)
    response = api.post(f"/v1/accounts/ACC-100002/drafts/{other['id']}/void", json={"reason": "try it"})
    assert response.status_code == 409 and "credit note" in response.json()["message"]
    assert api.post(f"/v1/accounts/{STUCK}/drafts/nope/void", json={"reason": "try it"}).status_code == 404
    # Another account's draft is not found under this account.
    assert (
        api.post(f"/v1/accounts/ACC-100002/drafts/{STUCK}:2026-10-01/void", json={"reason": "x y z"}).status_code == 404
    )
    assert api.get("/v1/numbering/INV-1999").status_code == 404
