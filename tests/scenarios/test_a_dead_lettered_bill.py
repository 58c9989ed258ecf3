"""A bill that fails every time for one account (item 7): the Melbourne household's November
2027 bill dies after its number is taken, on every delivery, until the bus dead-letters it
with the reason. The Hobart household is billed meanwhile. An operator ships the fix and
replays the dead letter the next morning: Melbourne is billed once, with the number its
failed attempts held, so the series has no gap; and the next three months carry on."""

from __future__ import annotations

from datetime import date, datetime

from shared.invoicing.numbering import InvoiceNumbering
from shared.payments.ledger_command import check_ledger
from shared.resources import ACCOUNTS, BILL_RUNS, MAX_DELIVERY_COUNT, NUMBERING, QUEUE_BILL_REQUESTED
from tests.scenarios.support import BILL_CYCLE_AT, HOBART_REGISTER, MELBOURNE_REGISTER, Story, at_utc, days

NOVEMBER, MARCH = date(2027, 11, 1), date(2028, 3, 1)
BROKEN = "address service refused the billing address: unexpected field 'unit'"


def test_a_bill_failing_every_time_is_dead_lettered_then_replayed_once_without_a_gap(platform, clock, monkeypatch):
    clock.now = datetime.fromisoformat("2027-11-20T00:00:00+00:00")
    story = Story(platform, clock, monkeypatch, accounts=(MELBOURNE_REGISTER, HOBART_REGISTER), real_pdfs=False)
    story.billed_through(NOVEMBER)
    story.meter_data(first=NOVEMBER, last=MARCH)
    attempts: list[int] = []
    real_claim = InvoiceNumbering.claim

    def fails_for_melbourne(self, **kwargs):
        claimed = real_claim(self, **kwargs)
        if kwargs["invoice_id"].startswith(MELBOURNE_REGISTER):
            attempts.append(kwargs["delivery"])
            raise RuntimeError(BROKEN)
        return claimed

    with monkeypatch.context() as broken:
        broken.setattr(InvoiceNumbering, "claim", fails_for_melbourne)
        story.bill_cycle(at_utc(date(2027, 11, 30), BILL_CYCLE_AT))  # 1 December, 01:30 and 02:30 local

    # Dead-lettered after the maximum delivery count, with the handler's error as the reason.
    assert attempts == list(range(1, MAX_DELIVERY_COUNT + 1))
    [dead] = platform.bus.dead_letters()
    assert (dead.queue, dead.body["accountId"], dead.delivery_count) == (
        QUEUE_BILL_REQUESTED,
        MELBOURNE_REGISTER,
        MAX_DELIVERY_COUNT,
    )
    assert dead.reason == "MaxDeliveryCountExceeded" and BROKEN in dead.description
    outcome = platform.documents.container(BILL_RUNS.name).find(f"{MELBOURNE_REGISTER}:2027-11-01", dead.body["runId"])
    assert outcome["status"] == "failed" and BROKEN in outcome["reason"]
    # Hobart is billed; Melbourne's number is held for it (the register names its invoice).
    assert [(d["accountId"], d["number"]) for d in story.issued()] == [(HOBART_REGISTER, "INV-2027-000002")]
    register = InvoiceNumbering(platform.documents.container(NUMBERING.name)).register("INV-2027")
    assert [e["invoiceId"] for e in register] == [f"{MELBOURNE_REGISTER}:2027-11-01", f"{HOBART_REGISTER}:2027-11-01"]
    assert (
        platform.documents.container(ACCOUNTS.name).get(MELBOURNE_REGISTER, MELBOURNE_REGISTER)["billedThrough"]
        == NOVEMBER.isoformat()
    )

    # The fix is deployed; the operator replays the dead letter before the next day's run.
    # (Before it on purpose: the in-process bus measures its duplicate window on the wall
    # clock, so a kick-off the test clock calls "tomorrow", seconds later, would be dropped
    # as a duplicate of the dead letter, where Service Bus would deliver it and fail again.)
    clock.now = datetime.fromisoformat("2027-12-01T01:00:00+00:00")
    assert platform.bus.replay_dead_letters(QUEUE_BILL_REQUESTED) == 1
    platform.bus.drain()
    assert platform.bus.replay_dead_letters(QUEUE_BILL_REQUESTED) == 0  # nothing left to replay
    assert platform.bus.dead_letters() == []
    assert [(d["accountId"], d["number"]) for d in story.issued()] == [
        (MELBOURNE_REGISTER, "INV-2027-000001"),
        (HOBART_REGISTER, "INV-2027-000002"),
    ]
    outcome = platform.documents.container(BILL_RUNS.name).find(f"{MELBOURNE_REGISTER}:2027-11-01", dead.body["runId"])
    assert (outcome["status"], outcome["invoiceNumber"]) == ("billed", "INV-2027-000001")

    # And the next months go on, gapless: December, January and February for both.
    for day in days(date(2027, 12, 1), date(2028, 2, 29)):
        story.bill_cycle(at_utc(day, BILL_CYCLE_AT))
    assert story.by_series() == {"INV-2027": [1, 2], "INV-2028": [1, 2, 3, 4, 5, 6]}
    for account in (MELBOURNE_REGISTER, HOBART_REGISTER):
        starts = sorted(d["periodStart"] for d in story.issued(account))
        assert starts == ["2027-11-01", "2027-12-01", "2028-01-01", "2028-02-01"]
    assert platform.bus.dead_letters() == []
    assert check_ledger(platform.documents).balanced
