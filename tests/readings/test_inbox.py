"""Files dropped into the readings inbox enter exactly like HTTP uploads, once per content."""

from __future__ import annotations

import azure.functions as func

from functions.blobs import readings_inbox_drop
from shared.demo.sample_utility import seed_sample_utility
from shared.readings.inbox import accept_dropped_file, scan_inbox
from shared.resources import BLOB_READINGS_INBOX, IMPORTS, READINGS
from shared.runtime import use_platform

NEM12 = (
    "100,NEM12,202611020200,MDP,RETAIL\r\n"
    "200,4102009902,E1,1,E1,N1,MTR-S330051,kWh,30,\r\n"
    "300,20261015," + ",".join(["0.250"] * 48) + ",A,,,20261016020000,20261016020000\r\n"
    "900\r\n"
).encode()


def drop(platform, name: str, data: bytes = NEM12) -> None:
    platform.blobs.put(BLOB_READINGS_INBOX, f"drop/{name}", data, content_type="text/csv")


def inbox(platform) -> list[str]:
    return sorted(b.name for b in platform.blobs.list(BLOB_READINGS_INBOX))


def test_a_dropped_file_is_imported_and_leaves_the_drop_folder(platform):
    seed_sample_utility(platform.documents)
    drop(platform, "NEM12#0001#MDP#RETAIL.csv")
    [(name, queued)] = scan_inbox(platform.documents, platform.blobs, platform.bus)
    assert name == "NEM12#0001#MDP#RETAIL.csv" and queued.new
    assert inbox(platform) == [f"incoming/{queued.import_id}"]
    platform.bus.drain()
    record = platform.documents.container(IMPORTS.name).get(queued.import_id, queued.import_id)
    assert (record["status"], record["file"], record["channel"]) == ("accepted", name, "drop")
    assert inbox(platform) == [f"processed/{queued.import_id}"]
    day = platform.documents.container(READINGS.name).get("interval:E1:2026-10-15", "4102009902")
    assert sum(day["valuesWh"]) == 48 * 250


def test_the_same_file_dropped_twice_under_two_names_is_one_import(platform):
    seed_sample_utility(platform.documents)
    drop(platform, "first.csv")
    [(_, first)] = scan_inbox(platform.documents, platform.blobs, platform.bus)
    platform.bus.drain()
    drop(platform, "resent-by-the-provider.csv")
    [(_, again)] = scan_inbox(platform.documents, platform.blobs, platform.bus)
    assert again.import_id == first.import_id and not again.new and again.status == "accepted"
    assert platform.bus.pending() == 0
    assert len(platform.documents.container(IMPORTS.name).query()) == 1
    assert inbox(platform) == [f"processed/{first.import_id}"]


def test_a_second_trigger_for_a_file_already_taken_does_nothing(platform):
    drop(platform, "once.csv")
    assert accept_dropped_file(platform.documents, platform.blobs, platform.bus, blob_name="drop/once.csv")
    assert accept_dropped_file(platform.documents, platform.blobs, platform.bus, blob_name="drop/once.csv") is None
    assert platform.bus.pending() == 1


def test_a_file_name_outside_ascii_survives_the_trip_through_blob_metadata(platform):
    seed_sample_utility(platform.documents)
    drop(platform, "odczyty-październik ÆØÅ.csv")
    [(_, queued)] = scan_inbox(platform.documents, platform.blobs, platform.bus)
    platform.bus.drain()
    record = platform.documents.container(IMPORTS.name).get(queued.import_id, queued.import_id)
    assert record["file"] == "odczyty-październik ÆØÅ.csv" and record["status"] == "accepted"


def test_a_broken_dropped_file_is_rejected_with_its_report_beside_it(platform):
    drop(platform, "broken.csv", NEM12.replace(b"900\r\n", b""))
    [(_, queued)] = scan_inbox(platform.documents, platform.blobs, platform.bus)
    platform.bus.drain()
    assert inbox(platform) == [f"rejected/{queued.import_id}", f"rejected/{queued.import_id}.errors.json"]


def test_the_functions_blob_trigger_runs_the_same_path(platform):
    seed_sample_utility(platform.documents)
    use_platform(platform)
    try:
        drop(platform, "via-trigger.csv")
        readings_inbox_drop(func.blob.InputStream(name="readings-inbox/drop/via-trigger.csv", data=NEM12))
    finally:
        use_platform(None)
    assert [b for b in inbox(platform) if b.startswith("drop/")] == []
    platform.bus.drain()
    [record] = platform.documents.container(IMPORTS.name).query()
    assert record["status"] == "accepted" and record["file"] == "via-trigger.csv"
