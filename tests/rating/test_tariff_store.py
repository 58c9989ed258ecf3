"""Tariff versions as records: each version its own document, the head's ETag guarding
every change, versions never overlapping, and a version that may have been billed never
changing. The tests of what differs between stores (ETags, racing writers, documents in a
partition) run on SQLite and on the local Cosmos DB server; the rest on SQLite."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from shared.demo.sample_utility import FLAT_TARIFF
from shared.platform.documents import DocumentStore
from shared.platform.documents.sqlite_store import SqliteDocumentStore
from shared.rating.tariff import Tariff, TariffError
from shared.rating.tariff_store import (
    StaleTariff,
    TariffExists,
    TariffNotFound,
    TariffStore,
    apply_bulk,
    in_use,
    latest_local_date,
    place_version,
    plan_bulk,
    version_document_id,
)
from shared.resources import TARIFFS

# Setting tariffs up in June 2026: versions from July on are still in the future.
JUNE = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
NOVEMBER = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def version_doc(
    version: str, effective_from: str, effective_to: str | None = None, *, energy: str = "0.3000", **extra: Any
) -> dict[str, Any]:
    return {
        "id": "res-flat",
        "version": version,
        "name": "Residential flat",
        "currency": "AUD",
        "effectiveFrom": effective_from,
        "effectiveTo": effective_to,
        "components": [
            {"id": "supply", "kind": "daily_supply", "description": "Supply", "rate": "1.00", "taxCode": "GST"},
            {"id": "energy", "kind": "flat_energy", "description": "Energy", "rate": energy, "taxCode": "GST"},
        ],
        "taxes": {"GST": "0.10"},
        "taxRounding": "per_invoice",
    } | extra


def version(*args: Any, **kwargs: Any) -> Tariff:
    return Tariff.from_document(version_doc(*args, **kwargs))


@pytest.fixture
def documents_sqlite(tmp_path) -> Iterator[DocumentStore]:
    store = SqliteDocumentStore(tmp_path / "tariffs.sqlite3")
    yield store
    store.close()


@pytest.fixture
def documents_cosmos(cosmos_server, local_cosmos_findings) -> Iterator[DocumentStore]:
    from shared.platform.documents.cosmos_store import CosmosDocumentStore

    store = CosmosDocumentStore(
        cosmos_server.endpoint,
        cosmos_server.key,
        f"test-{uuid.uuid4().hex[:12]}",
        verify_tls=False,
        guarantees=local_cosmos_findings.guarantees,
        endpoint_discovery=False,
    )
    yield store
    store.close()


@pytest.fixture(params=["sqlite", pytest.param("cosmos", marks=pytest.mark.servers)])
def documents(request: pytest.FixtureRequest) -> DocumentStore:
    return request.getfixturevalue(f"documents_{request.param}")


# -- the rules -------------------------------------------------------------------------------------------


def test_the_latest_local_date_is_fourteen_hours_ahead_of_utc():
    # 09:59 UTC on 1 June is 23:59 in Kiribati; 10:00 UTC is already 2 June there.
    assert latest_local_date(datetime(2026, 6, 1, 9, 59, tzinfo=UTC)) == date(2026, 6, 1)
    assert latest_local_date(datetime(2026, 6, 1, 10, 0, tzinfo=UTC)) == date(2026, 6, 2)
    assert in_use(version("v", "2026-06-02"), as_of=datetime(2026, 6, 1, 10, 0, tzinfo=UTC))
    assert not in_use(version("v", "2026-06-02"), as_of=datetime(2026, 6, 1, 9, 59, tzinfo=UTC))
    with pytest.raises(ValueError, match="as_of"):
        latest_local_date(datetime(2026, 6, 1))


def test_a_new_version_ends_the_running_one_on_its_first_day():
    running = version("2026-07-01", "2026-07-01")
    placement = place_version([running], version("2027-01-01", "2027-01-01", energy="0.3300"), as_of=NOVEMBER)

    assert placement.outcome == "added"
    assert [(v.version, v.effective_from, v.effective_to) for v in placement.versions] == [
        ("2026-07-01", date(2026, 7, 1), date(2027, 1, 1)),
        ("2027-01-01", date(2027, 1, 1), None),
    ]
    assert [v.version for v in placement.written] == ["2026-07-01", "2027-01-01"]


def test_a_new_version_starting_on_a_day_that_may_be_billed_is_refused():
    running = version("2026-07-01", "2026-07-01")
    # On 2 November 09:00 UTC it is already 2 November (23:00) in Kiribati.
    with pytest.raises(TariffError, match="not in the future") as refused:
        place_version([running], version("2026-11-02", "2026-11-02"), as_of=NOVEMBER)
    assert refused.value.field == "effectiveFrom"


@pytest.mark.parametrize(
    ("new", "message"),
    [
        # starts before the running version: it would reprice that version's first days
        (("v0", "2026-06-01", "2026-08-01"), "overlaps tariff res-flat version 2026-07-01"),
        # a temporary price inside an open-ended version would leave a hole after it
        (("v2", "2027-01-01", "2027-02-01"), "overlaps tariff res-flat version 2026-07-01"),
    ],
)
def test_overlapping_versions_are_refused_naming_both(new, message):
    with pytest.raises(TariffError, match=message):
        place_version([version("2026-07-01", "2026-07-01")], version(*new), as_of=JUNE)


def test_a_version_in_use_never_changes_but_sent_again_unchanged_is_a_no_op():
    billed = version("2026-07-01", "2026-07-01")
    assert place_version([billed], version("2026-07-01", "2026-07-01"), as_of=NOVEMBER).outcome == "unchanged"
    with pytest.raises(TariffError, match="may have been billed") as refused:
        place_version([billed], version("2026-07-01", "2026-07-01", energy="0.2900"), as_of=NOVEMBER)
    assert refused.value.field == "version"


def test_a_version_not_yet_in_use_may_be_replaced():
    planned = version("2027-01-01", "2027-01-01")
    placement = place_version([planned], version("2027-01-01", "2027-01-01", energy="0.3500"), as_of=NOVEMBER)
    assert placement.outcome == "replaced"
    assert [c.rate for c in placement.versions[0].components] == [Decimal("1.00"), Decimal("0.3500")]


def test_versions_share_currency_and_tax_rounding():
    running = version("2026-07-01", "2026-07-01")
    with pytest.raises(TariffError, match="priced in AUD, not NZD"):
        place_version([running], version("2027-01-01", "2027-01-01", currency="NZD"), as_of=JUNE)
    with pytest.raises(TariffError, match="one invoice has one rule"):
        place_version([running], version("2027-01-01", "2027-01-01", taxRounding="per_line"), as_of=JUNE)


def test_ids_that_cannot_make_a_document_id_are_refused():
    with pytest.raises(TariffError, match="version: '2026@07'"):
        place_version([], version("2026@07", "2026-07-01"), as_of=JUNE)
    with pytest.raises(TariffError, match="id: 'res/flat'"):
        place_version([], version("v1", "2026-07-01", id="res/flat"), as_of=JUNE)


# -- the store ---------------------------------------------------------------------------------------------


def test_versions_are_stored_each_in_its_own_document_and_read_by_period(documents):
    store = TariffStore(documents)
    store.create(version("2026-07-01", "2026-07-01"), as_of=JUNE)
    stored, outcome = store.add_version(version("2027-01-01", "2027-01-01", energy="0.3300"), as_of=JUNE)
    assert outcome == "added"

    assert [(v.version, v.effective_to) for v in stored.versions] == [
        ("2026-07-01", date(2027, 1, 1)),
        ("2027-01-01", None),
    ]
    # A period across the change gets both; one inside a version only that one.
    assert [v.version for v in store.versions("res-flat", date(2026, 12, 15), date(2027, 1, 15))] == [
        "2026-07-01",
        "2027-01-01",
    ]
    assert [v.version for v in store.versions("res-flat", date(2027, 2, 1), date(2027, 3, 1))] == ["2027-01-01"]
    assert store.versions("res-flat", date(2026, 1, 1), date(2026, 2, 1)) == []
    # Each version is its own document in the tariff's partition; the head lists them.
    tariffs = documents.container(TARIFFS.name)
    head = tariffs.get("res-flat", "res-flat")
    assert [entry["documentId"] for entry in head["versions"]] == [version_document_id(v) for v in stored.versions]
    for entry in head["versions"]:
        assert tariffs.get(entry["documentId"], "res-flat")["tariff"]["version"] == entry["version"]
    assert head["currency"] == "AUD"  # what contract checks read


def test_a_stale_etag_is_refused(documents_sqlite):
    store = TariffStore(documents_sqlite)
    created = store.create(version("2026-07-01", "2026-07-01"), as_of=JUNE)
    store.add_version(version("2027-01-01", "2027-01-01"), as_of=JUNE, if_match=created.etag)
    with pytest.raises(StaleTariff):
        store.add_version(version("2027-07-01", "2027-07-01"), as_of=JUNE, if_match=created.etag)

    assert [v.version for v in store.get("res-flat").versions] == ["2026-07-01", "2027-01-01"]


class RacedContainer:
    """The tariffs container, where another writer gets in just before the first head replace."""

    def __init__(self, container: Any, other_writer: Any) -> None:
        self._container, self._other_writer = container, other_writer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._container, name)

    def replace(self, document: Any, *, etag: str | None) -> Any:
        writer, self._other_writer = self._other_writer, None
        if writer is not None:
            writer()
        return self._container.replace(document, etag=etag)


def test_a_writer_that_loses_a_race_places_its_version_again_on_the_winners(documents):
    store = TariffStore(documents)
    store.create(version("2026-07-01", "2026-07-01"), as_of=JUNE)
    rival = TariffStore(documents)
    store._tariffs = RacedContainer(
        store._tariffs, lambda: rival.add_version(version("2027-01-01", "2027-01-01"), as_of=JUNE)
    )

    stored, outcome = store.add_version(version("2027-07-01", "2027-07-01"), as_of=JUNE)

    # Placed on the rival's version, not over it: the rival's version is ended, not lost.
    assert outcome == "added"
    assert [(v.version, v.effective_to) for v in stored.versions] == [
        ("2026-07-01", date(2027, 1, 1)),
        ("2027-01-01", date(2027, 7, 1)),
        ("2027-07-01", None),
    ]
    assert store.get("res-flat").versions == stored.versions


def test_with_if_match_a_lost_race_is_stale_not_retried(documents_sqlite):
    store = TariffStore(documents_sqlite)
    created = store.create(version("2026-07-01", "2026-07-01"), as_of=JUNE)
    rival = TariffStore(documents_sqlite)
    store._tariffs = RacedContainer(
        store._tariffs, lambda: rival.add_version(version("2027-01-01", "2027-01-01"), as_of=JUNE)
    )
    with pytest.raises(StaleTariff):
        store.add_version(version("2027-07-01", "2027-07-01"), as_of=JUNE, if_match=created.etag)
    assert [v.version for v in store.get("res-flat").versions] == ["2026-07-01", "2027-01-01"]


class BrokenReplace(RacedContainer):
    def replace(self, document: Any, *, etag: str | None) -> Any:
        raise RuntimeError("storage unavailable")


def test_a_store_failure_that_is_no_lost_race_is_raised_as_it_came(documents_sqlite):
    store = TariffStore(documents_sqlite)
    store.create(version("2026-07-01", "2026-07-01"), as_of=JUNE)
    store._tariffs = BrokenReplace(store._tariffs, None)
    with pytest.raises(RuntimeError, match="storage unavailable"):
        store.add_version(version("2027-01-01", "2027-01-01"), as_of=JUNE)
    assert [v.version for v in TariffStore(documents_sqlite).get("res-flat").versions] == ["2026-07-01"]


def test_creating_an_existing_tariff_and_reading_an_unknown_one_are_refused(documents_sqlite):
    store = TariffStore(documents_sqlite)
    store.create(version("2026-07-01", "2026-07-01"), as_of=JUNE)
    with pytest.raises(TariffExists):
        store.create(version("2027-01-01", "2027-01-01"), as_of=JUNE)
    with pytest.raises(TariffNotFound):
        store.versions("nope", date(2026, 7, 1), date(2026, 8, 1))
    with pytest.raises(TariffNotFound):
        store.get("res-flat").version("1999")


def test_a_refused_version_changes_nothing(documents_sqlite):
    store = TariffStore(documents_sqlite)
    store.create(version("2026-07-01", "2026-07-01"), as_of=JUNE)
    before = documents_sqlite.container(TARIFFS.name).query(partition="res-flat")
    with pytest.raises(TariffError):
        store.add_version(version("2026-06-01", "2026-06-01", "2026-08-01"), as_of=JUNE)
    assert documents_sqlite.container(TARIFFS.name).query(partition="res-flat") == before


def test_a_single_document_tariff_reads_as_one_version_and_converts_on_its_first_new_version(documents):
    tariffs = documents.container(TARIFFS.name)
    tariffs.create(FLAT_TARIFF)
    store = TariffStore(documents)

    (only,) = store.versions("res-flat-2026", date(2026, 10, 1), date(2026, 11, 1))
    assert (only.version, only.effective_to) == ("2026-07-01", None)
    assert store.get("res-flat-2026").legacy

    newer = Tariff.from_document({**FLAT_TARIFF, "version": "2027-01-01", "effectiveFrom": "2027-01-01"})
    stored, outcome = store.add_version(newer, as_of=NOVEMBER, if_match=store.get("res-flat-2026").etag)

    assert outcome == "added" and not stored.legacy
    assert [(v.version, v.effective_to) for v in stored.versions] == [
        ("2026-07-01", date(2027, 1, 1)),
        ("2027-01-01", None),
    ]
    # October's bill still sees the same prices as before the conversion.
    (october,) = store.versions("res-flat-2026", date(2026, 10, 1), date(2026, 11, 1))
    assert october.to_document() | {"effectiveTo": None} == Tariff.from_document(FLAT_TARIFF).to_document()


def test_an_unlisted_version_document_left_by_an_interrupted_write_is_ignored(documents_sqlite):
    store = TariffStore(documents_sqlite)
    store.create(version("2026-07-01", "2026-07-01"), as_of=JUNE)
    orphan = version("2027-01-01", "2027-01-01")
    store._write_versions([orphan])  # the crash: documents written, the head never replaced

    assert [v.version for v in store.get("res-flat").versions] == ["2026-07-01"]
    # Adding it again completes the write.
    assert store.add_version(orphan, as_of=JUNE)[1] == "added"


# -- bulk -----------------------------------------------------------------------------------------------------


def test_a_bulk_plan_names_every_refused_item_and_applying_it_is_refused(documents_sqlite):
    store = TariffStore(documents_sqlite)
    items = [
        version_doc("2026-07-01", "2026-07-01"),
        version_doc("2027-01-01", "2027-01-01") | {"components": [{"id": "e", "kind": "flat_energy"}]},
        "not a tariff",
        version_doc("2026-08-01", "2026-08-01", "2026-09-01"),
    ]
    plan = plan_bulk(store, items, as_of=JUNE)

    assert [(e.index, e.field) for e in plan.errors] == [
        (1, "components[0].description"),
        (2, ""),
        (3, "effectiveFrom"),
    ]
    assert "missing" in plan.errors[0].message
    assert [c.action for c in plan.changes] == ["create-tariff"]
    with pytest.raises(ValueError, match="nothing is"):
        apply_bulk(store, plan, as_of=JUNE)
    assert store.find("res-flat") is None


def test_a_bulk_load_applies_every_version_and_again_changes_nothing(documents_sqlite):
    store = TariffStore(documents_sqlite)
    items = [version_doc("2026-07-01", "2026-07-01"), version_doc("2027-01-01", "2027-01-01", energy="0.3300")]

    plan = plan_bulk(store, items, as_of=JUNE)
    assert [(c.action, c.ends.version if c.ends else None) for c in plan.changes] == [
        ("create-tariff", None),
        ("add-version", "2026-07-01"),
    ]
    assert apply_bulk(store, plan, as_of=JUNE) == ["res-flat"]
    assert [v.version for v in store.get("res-flat").versions] == ["2026-07-01", "2027-01-01"]

    again = plan_bulk(store, items, as_of=JUNE)
    assert [c.action for c in again.changes] == ["unchanged", "unchanged"]
    assert apply_bulk(store, again, as_of=JUNE) == []


def test_a_bulk_plan_made_before_a_change_is_not_applied(documents_sqlite):
    store = TariffStore(documents_sqlite)
    store.create(version("2026-07-01", "2026-07-01"), as_of=JUNE)
    plan = plan_bulk(store, [version_doc("2027-01-01", "2027-01-01")], as_of=JUNE)
    store.add_version(version("2026-12-01", "2026-12-01"), as_of=JUNE)  # someone else, in between

    with pytest.raises(StaleTariff):
        apply_bulk(store, plan, as_of=JUNE)
    assert [v.version for v in store.get("res-flat").versions] == ["2026-07-01", "2026-12-01"]
