"""The in-process bus keeps the Service Bus promises handlers rely on."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from shared.observability import correlation
from shared.platform.messaging import Message, UnknownQueue
from shared.platform.messaging.in_process import InProcessBus

QUEUES = ("work", "next")


@pytest.fixture
def bus(tmp_path):
    bus = InProcessBus(tmp_path / "bus.sqlite3", queues=QUEUES, max_delivery_count=3)
    yield bus
    bus.close()


def test_a_message_is_delivered_once_when_its_handler_succeeds(bus):
    seen: list[Message] = []
    bus.subscribe("work", seen.append)
    bus.send("work", {"n": 1}, message_id="m1", properties={"kind": "test"})
    report = bus.drain()
    assert (report.delivered, report.completed) == (1, 1)
    assert seen[0].body == {"n": 1} and seen[0].message_id == "m1" and seen[0].delivery_count == 1
    assert seen[0].properties == {"kind": "test"}
    assert bus.drain().delivered == 0


def test_a_failing_handler_is_retried_then_dead_lettered_with_its_reason(bus):
    attempts: list[int] = []

    def always_fails(message: Message) -> None:
        attempts.append(message.delivery_count)
        raise RuntimeError("tariff res-x not found")

    bus.subscribe("work", always_fails)
    bus.send("work", {"account": "A1"}, message_id="bill-A1")
    report = bus.drain()
    assert attempts == [1, 2, 3]
    assert report.dead_lettered == 1 and report.retried == 2
    [dead] = bus.dead_letters()
    assert dead.queue == "work" and dead.message_id == "bill-A1" and dead.body == {"account": "A1"}
    assert dead.reason == "MaxDeliveryCountExceeded"
    assert "RuntimeError: tariff res-x not found" in dead.description
    assert bus.pending() == 0


def test_a_replayed_dead_letter_is_processed_once_after_the_fix(bus):
    fixed = False
    processed: list[str] = []

    def handler(message: Message) -> None:
        if not fixed:
            raise ValueError("bug")
        processed.append(message.message_id)

    bus.subscribe("work", handler)
    bus.send("work", {}, message_id="m1")
    bus.drain()
    assert len(bus.dead_letters("work")) == 1
    fixed = True
    assert bus.replay_dead_letters("work") == 1
    bus.drain()
    assert processed == ["m1"]
    assert bus.dead_letters() == []
    assert bus.replay_dead_letters("work") == 0  # nothing left to replay: no second processing


def test_a_message_that_fails_once_succeeds_on_redelivery(bus):
    calls: list[int] = []

    def flaky(message: Message) -> None:
        calls.append(message.delivery_count)
        if message.delivery_count == 1:
            raise ConnectionError("storage blipped")

    bus.subscribe("work", flaky)
    bus.send("work", {}, message_id="m1")
    report = bus.drain()
    assert calls == [1, 2] and report.completed == 1 and report.dead_lettered == 0


def test_a_duplicate_send_inside_the_window_is_dropped(tmp_path):
    now = [datetime(2026, 11, 2, tzinfo=UTC)]
    bus = InProcessBus(
        tmp_path / "b.sqlite3", queues=QUEUES, duplicate_window=timedelta(minutes=10), clock=lambda: now[0]
    )
    seen: list[str] = []
    bus.subscribe("work", lambda m: seen.append(m.message_id))
    bus.send("work", {"v": 1}, message_id="same")
    bus.send("work", {"v": 2}, message_id="same")
    bus.send("next", {"v": 3}, message_id="same")  # a different queue is a different entity
    bus.drain()
    assert seen == ["same"]
    now[0] += timedelta(minutes=11)
    bus.send("work", {"v": 4}, message_id="same")  # outside the window, as on Service Bus
    bus.drain()
    assert seen == ["same", "same"]


def test_messages_sent_by_a_handler_are_delivered_in_the_same_drain(bus):
    order: list[str] = []
    bus.subscribe("work", lambda m: (order.append("work"), bus.send("next", {}, message_id="n1")))
    bus.subscribe("next", lambda m: order.append("next"))
    bus.send("work", {}, message_id="w1")
    assert bus.drain().completed == 2
    assert order == ["work", "next"]


def test_pending_messages_survive_a_crash_of_the_process(tmp_path):
    path = tmp_path / "bus.sqlite3"
    first = InProcessBus(path, queues=QUEUES)
    first.send("work", {"n": 1}, message_id="m1")
    first.close()  # the process dies before delivering
    second = InProcessBus(path, queues=QUEUES)
    seen: list[dict] = []
    second.subscribe("work", lambda m: seen.append(m.body))
    second.drain()
    assert seen == [{"n": 1}]


def test_a_message_for_a_queue_without_handler_is_dead_lettered_not_lost(bus):
    bus.send("next", {}, message_id="orphan")
    assert bus.drain().dead_lettered == 1
    assert bus.dead_letters()[0].reason == "NoHandler"


def test_unknown_queues_and_missing_message_ids_are_refused(bus):
    with pytest.raises(UnknownQueue, match="bill-requestd"):
        bus.send("bill-requestd", {}, message_id="x")
    with pytest.raises(ValueError, match="message_id"):
        bus.send("work", {}, message_id="")


def test_the_correlation_id_travels_from_sender_to_handler_and_its_logs(bus, caplog):
    log = logging.getLogger("test.handler")
    seen: list[str | None] = []

    def handler(message: Message) -> None:
        seen.append(message.correlation_id)
        log.info("handled")
        if message.queue == "work":
            bus.send("next", {}, message_id="n1")

    bus.subscribe("work", handler)
    bus.subscribe("next", handler)
    with correlation("req-42"):
        bus.send("work", {}, message_id="w1")
    with caplog.at_level(logging.INFO, logger="test.handler"):
        bus.drain()
    assert seen == ["req-42", "req-42"]
    assert [r.correlation_id for r in caplog.records if r.name == "test.handler"] == ["req-42", "req-42"]
