"""Readings over HTTP, called the way a field app and a metering data provider call it."""

from __future__ import annotations

import pytest

from shared.api import reading_routes
from shared.demo.meter_data import register_read_batch
from shared.demo.sample_utility import seed_sample_utility
from shared.resources import BLOB_READINGS_INBOX, IDEMPOTENCY, READINGS

GOOD_READ = {
    "meterSerial": "MTR-D110231",
    "register": "E1",
    "value": "10234.5",
    "readAt": "2026-11-01T10:02:00+11:00",
    "readType": "actual",
    "readerId": "FO-117",
}


@pytest.fixture
def seeded(platform, api):
    seed_sample_utility(platform.documents)
    return api


def stored_reads(platform) -> list[dict]:
    return platform.documents.container(READINGS.name).query({"kind": "register"})


def test_a_batch_is_answered_item_by_item(seeded, platform):
    unknown_meter = {**GOOD_READ, "meterSerial": "MTR-NOPE"}
    negative = {**GOOD_READ, "value": "-3"}
    extra_field = {**GOOD_READ, "colour": "blue"}
    response = seeded.post(
        "/v1/readings/register-reads",
        json={"items": [GOOD_READ, unknown_meter, negative, extra_field]},
        headers={"Idempotency-Key": "k1"},
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (1, 3)
    statuses = [(i["index"], i["status"], [e["field"] for e in i["errors"]]) for i in body["items"]]
    assert statuses[0] == (0, "accepted", [])
    assert statuses[1] == (1, "rejected", ["meterSerial"])
    assert statuses[2][1] == "rejected" and "value" in statuses[2][2]
    assert statuses[3][1] == "rejected" and "colour" in " ".join(statuses[3][2] + [str(body["items"][3])])
    assert len(stored_reads(platform)) == 1


def test_a_retried_batch_with_the_same_key_is_answered_once_and_stored_once(seeded, platform):
    batch = {"items": register_read_batch()}
    first = seeded.post("/v1/readings/register-reads", json=batch, headers={"Idempotency-Key": "field-run-1"})
    again = seeded.post("/v1/readings/register-reads", json=batch, headers={"Idempotency-Key": "field-run-1"})
    assert first.json() == again.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(stored_reads(platform)) == len(batch["items"])
    other = seeded.post(
        "/v1/readings/register-reads", json={"items": [GOOD_READ]}, headers={"Idempotency-Key": "field-run-1"}
    )
    assert other.status_code == 409 and other.json()["error"] == "idempotency_key_reused"


def test_the_api_dying_mid_batch_then_the_retry_stores_each_read_once(seeded, platform, monkeypatch):
    # The reads are stored, then the process dies before it remembers its answer.
    # (An ordinary exception stands in for the kill: SystemExit would take the test client's
    # event loop down with it.)
    class WorkerKilled(Exception):
        pass

    def crash(*args, **kwargs):
        raise WorkerKilled("worker killed")

    monkeypatch.setattr(reading_routes, "remember", crash)
    batch = {"items": register_read_batch()}
    with pytest.raises(WorkerKilled):
        seeded.post("/v1/readings/register-reads", json=batch, headers={"Idempotency-Key": "k-crash"})
    assert platform.documents.container(IDEMPOTENCY.name).query() == []
    monkeypatch.undo()
    retry = seeded.post("/v1/readings/register-reads", json=batch, headers={"Idempotency-Key": "k-crash"})
    assert retry.status_code == 200 and retry.json()["accepted"] == len(batch["items"])
    assert len(stored_reads(platform)) == len(batch["items"])


def test_a_batch_without_idempotency_key_is_refused(seeded, platform):
    response = seeded.post("/v1/readings/register-reads", json={"items": [GOOD_READ]})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert stored_reads(platform) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"items": [', "body"),  # malformed JSON
        (b'{"items": [], "extra": 1}', "extra"),  # unknown field
        (b'{"items": "all of them"}', "items"),  # wrong type
        (b'{"items": []}', "items"),  # empty batch
        (b"[]", "body"),
    ],
)
def test_malformed_requests_get_a_422_naming_the_field(seeded, platform, body, field):
    response = seeded.post(
        "/v1/readings/register-reads",
        content=body,
        headers={"Idempotency-Key": "k", "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    payload = response.json()
    assert payload["error"] == "validation_failed"
    assert any(e["field"].split(".")[0] == field for e in payload["errors"]), payload
    assert stored_reads(platform) == []


def test_an_oversized_upload_is_refused_with_413_and_nothing_is_stored(seeded, platform):
    big = b"100,NEM12,202611020200,A,B\n" + b"x" * (70 * 1024)
    response = seeded.post("/v1/readings/files", params={"fileName": "big.csv"}, content=big)
    assert response.status_code == 413
    assert response.json()["error"] == "request_too_large"

    def chunks():  # no Content-Length: the cap is enforced while streaming
        for _ in range(100):
            yield b"y" * 1024

    streamed = seeded.post("/v1/readings/files", params={"fileName": "big.csv"}, content=chunks())
    assert streamed.status_code == 413
    assert platform.blobs.list(BLOB_READINGS_INBOX) == []
    assert platform.bus.pending() == 0


def test_too_many_items_is_refused_before_anything_is_stored(seeded, platform, monkeypatch):
    monkeypatch.setattr(platform, "settings", platform.settings.model_copy(update={"max_batch_items": 2}))
    response = seeded.post(
        "/v1/readings/register-reads", json={"items": [GOOD_READ] * 3}, headers={"Idempotency-Key": "k"}
    )
    assert response.status_code == 413 and response.json()["errors"][0]["field"] == "items"
    assert stored_reads(platform) == []


NEM12 = (
    "100,NEM12,202611020200,MDP,RETAIL\r\n"
    "200,4102009902,E1,1,E1,N1,MTR-S330051,kWh,30,\r\n"
    "300,20261015," + ",".join(["0.250"] * 48) + ",A,,,20261016020000,20261016020000\r\n"
    "900\r\n"
)


def test_a_meter_file_is_queued_imported_and_reported(seeded, platform):
    response = seeded.post("/v1/readings/files", params={"fileName": "NEM12#1#MDP#RETAIL.csv"}, content=NEM12.encode())
    assert response.status_code == 202
    upload = response.json()
    assert seeded.get(upload["statusUrl"]).json()["status"] == "queued"
    platform.bus.drain()
    status = seeded.get(upload["statusUrl"]).json()
    assert status["status"] == "accepted" and status["days"]["stored"] == 1
    day = platform.documents.container(READINGS.name).get("interval:E1:2026-10-15", "4102009902")
    assert sum(day["valuesWh"]) == 48 * 250
    names = [b.name for b in platform.blobs.list(BLOB_READINGS_INBOX)]
    assert names == [f"processed/{upload['importId']}"]

    again = seeded.post("/v1/readings/files", params={"fileName": "copy.csv"}, content=NEM12.encode())
    assert again.json()["importId"] == upload["importId"] and again.json()["status"] == "accepted"


def test_a_broken_meter_file_is_rejected_with_its_error_report_beside_it(seeded, platform):
    broken = NEM12.replace("900\r\n", "")
    upload = seeded.post("/v1/readings/files", params={"fileName": "broken.csv"}, content=broken.encode()).json()
    platform.bus.drain()
    status = seeded.get(upload["statusUrl"]).json()
    assert status["status"] == "rejected" and status["errors"]
    names = sorted(b.name for b in platform.blobs.list(BLOB_READINGS_INBOX))
    assert names == [f"rejected/{upload['importId']}", f"rejected/{upload['importId']}.errors.json"]


@pytest.mark.parametrize("name", ["../../etc/passwd", "/abs.csv", "a/b.csv", ""])
def test_a_file_name_that_could_escape_is_refused(seeded, platform, name):
    response = seeded.post("/v1/readings/files", params={"fileName": name}, content=NEM12.encode())
    assert response.status_code == 422
    assert platform.blobs.list(BLOB_READINGS_INBOX) == []


def test_an_unknown_import_is_a_404_in_the_error_shape(seeded):
    response = seeded.get("/v1/readings/imports/nope")
    assert response.status_code == 404 and response.json()["error"] == "not_found"


def test_register_reads_as_a_csv_file_and_a_nem13_file_import_through_the_same_upload(seeded, platform):
    csv_reads = (
        "meterSerial,register,readAt,value,readType,readerId\r\n"
        "MTR-D110231,E1,2026-11-01T15:30:00+11:00,10456.0,actual,FO-117\r\n"
        "MTR-NOPE,E1,2026-11-01T15:31:00+11:00,1.0,actual,FO-117\r\n"
    )
    upload = seeded.post("/v1/readings/files", params={"fileName": "field-run.csv"}, content=csv_reads.encode())
    platform.bus.drain()
    status = seeded.get(upload.json()["statusUrl"]).json()
    assert (status["format"], status["status"], status["reads"]) == ("csv", "partial", 1)
    assert [(e["line"], e["field"]) for e in status["errors"]] == [(3, "meterSerial")]

    nem13 = (
        "100,NEM13,202611020000,MDP,RETAIL\r\n"
        "250,6203778810,E1,E1,E1,N1,MTR-V220814,E,002345,20261001001000,A,,,002801,20261101001000,A,,,456,kWh,"
        "20261201,20261101120000,20261101130000\r\n"
        "900\r\n"
    )
    upload = seeded.post("/v1/readings/files", params={"fileName": "NEM13#1#MDP#RETAIL.csv"}, content=nem13.encode())
    platform.bus.drain()
    status = seeded.get(upload.json()["statusUrl"]).json()
    # One 250 record is two reads: the previous (1 Oct) and the current (1 Nov).
    assert (status["format"], status["status"], status["reads"]) == ("nem13", "accepted", 2), status["errors"]
