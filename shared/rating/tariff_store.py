"""Tariffs as versioned records in the ``tariffs`` container, one partition per tariff.

Documents of a tariff (partition ``tariffId`` = the tariff's id):

- the head, id = the tariff's id, ``kind: "tariff"``: name, currency, tax rounding and the
  list of versions that count, each ``{version, effectiveFrom, effectiveTo, documentId,
  digest}``. Its ETag is the tariff's ETag: every change replaces the head with the ETag
  read, so of two racing writers one wins and the other re-checks against the winner.
- one document per version, id = ``f"{tariff_id}@{version}@{digest[:16]}"``,
  ``kind: "tariff-version"``, holding the tariff document (TARIFF_FORMAT.md) under
  ``tariff``. The digest (SHA-256 of the canonical tariff document) is in the id, so a
  version document is written once and never replaced: a write creates the version
  documents first and then points the head at them. A crash in between, or the loser of a
  race, leaves an unlisted document that nothing reads; a reader following the head always
  finds complete, unchanging documents.

Older single-document tariffs (the demo's, the tests', a migration's: a tariff document
whose id is the tariff id, no ``kind``) are read as a tariff with that one version. The
first new version added to one converts it: its content becomes a version document and
the head replaces it (ETag-guarded, like any change).

Rules (``place_version``, pure):
- versions of one tariff share currency and tax rounding (one invoice, one rule) and never
  overlap; adding a version from date d ends the version running at d on d, the only
  change ever made to a version that may have been billed: it alters no billed day,
  because d must lie in the future;
- "could have been used by an invoice" is decided by date: a version is in use once its
  ``effectiveFrom`` is on or before the latest local date anywhere (the UTC date at UTC+14),
  so no time zone can already have billed a day of it. A version in use never changes
  (sending it again unchanged is a no-op); a version not yet in use may be replaced by
  sending the same version id with new content.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, Protocol

from shared.rating.tariff import Tariff, TariffError
from shared.resources import TARIFFS

HEAD_KIND = "tariff"
VERSION_KIND = "tariff-version"
RETRIES = 5
# The furthest ahead of UTC any civil time zone runs (Kiribati, UTC+14): the local date
# there is the latest date any service point can have billed.
LATEST_OFFSET = timedelta(hours=14)
# Characters a document id cannot hold (Cosmos DB), plus "@" which separates the id's parts.
_ID_FORBIDDEN = frozenset("/\\?#@")

Outcome = Literal["created", "added", "replaced", "unchanged"]


class TariffsContainer(Protocol):
    """What the store needs of the ``tariffs`` container (shared.platform.documents.Container):
    named here, not imported, so the rating package depends on no storage code."""

    def find(self, doc_id: str, partition: str) -> dict[str, Any] | None: ...

    def create(self, document: Mapping[str, Any]) -> dict[str, Any]: ...

    def replace(self, document: Mapping[str, Any], *, etag: str | None) -> dict[str, Any]: ...


class Documents(Protocol):
    def container(self, name: str) -> Any: ...


class TariffNotFound(LookupError):
    def __init__(self, tariff_id: str, version: str | None = None) -> None:
        what = f"tariff {tariff_id!r}" if version is None else f"tariff {tariff_id!r} version {version!r}"
        super().__init__(f"no {what}")
        self.tariff_id, self.version = tariff_id, version


class TariffExists(Exception):
    def __init__(self, tariff_id: str) -> None:
        super().__init__(f"tariff {tariff_id!r} already exists: add a version to it instead")
        self.tariff_id = tariff_id


class TariffBusy(Exception):
    """Other writers kept changing the tariff while this change was placed: try again."""

    def __init__(self, tariff_id: str) -> None:
        super().__init__(f"tariff {tariff_id!r} kept changing while the version was added: try again")
        self.tariff_id = tariff_id


class StaleTariff(Exception):
    """The If-Match ETag is not the tariff's current one: read it again."""

    def __init__(self, tariff_id: str) -> None:
        super().__init__(f"tariff {tariff_id!r} changed since it was read: GET it again")
        self.tariff_id = tariff_id


def latest_local_date(as_of: datetime) -> date:
    """The latest calendar date anywhere on Earth at ``as_of``."""
    if as_of.utcoffset() is None:
        raise ValueError(f"as_of: must be time-zone aware, got {as_of!r}")
    return (as_of.astimezone(UTC) + LATEST_OFFSET).date()


def in_use(version: Tariff, *, as_of: datetime) -> bool:
    """Could an invoice already have priced a day with this version?"""
    return version.effective_from <= latest_local_date(as_of)


# -- the rules, pure ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    """What adding one version does: the versions afterwards, in order, and which of them
    are new or changed (each needs its version document written)."""

    outcome: Outcome
    versions: tuple[Tariff, ...]
    written: tuple[Tariff, ...]
    ended: Tariff | None = None  # the version ended on the new one's first day, as changed


def place_version(current: Sequence[Tariff], new: Tariff, *, as_of: datetime) -> Placement:
    """Where ``new`` goes among the ``current`` versions of its tariff, or TariffError naming why not."""
    check_ids(new)
    if not current:
        return Placement("created", (new,), (new,))
    first = current[0]
    if new.id != first.id:
        raise TariffError("id", f"{new.id!r} is not tariff {first.id!r}")
    if new.currency != first.currency:
        raise TariffError("currency", f"tariff {first.id} is priced in {first.currency}, not {new.currency}")
    if new.tax_rounding is not first.tax_rounding:
        raise TariffError(
            "taxRounding",
            f"tariff {first.id} rounds tax {first.tax_rounding.value}, not {new.tax_rounding.value}: "
            "one invoice has one rule",
        )
    today = latest_local_date(as_of)
    outcome: Outcome = "added"
    others = []
    for version in current:
        if version.version != new.version:
            others.append(version)
            continue
        if _same(version, new, current):
            return Placement("unchanged", tuple(current), ())
        if in_use(version, as_of=as_of):
            raise TariffError(
                "version",
                f"tariff {first.id} version {version.version} prices days from {version.effective_from} and may "
                "have been billed: it cannot change; add a new version from a future date",
            )
        outcome = "replaced"
    ended: Tariff | None = None
    kept = []
    for version in others:
        if not _overlap(version, new):
            kept.append(version)
            continue
        running = version.effective_from < new.effective_from
        within = new.effective_to is None or (
            version.effective_to is not None and version.effective_to <= new.effective_to
        )
        if not (running and within):
            raise TariffError(
                "effectiveFrom",
                f"{_span(new)} overlaps tariff {first.id} version {version.version} ({_span(version)}); "
                "a new version may only end the one running at its start",
            )
        if new.effective_from <= today:
            raise TariffError(
                "effectiveFrom",
                f"{new.effective_from} is not in the future: ending version {version.version} there would change "
                f"the price of days that may have been billed (the latest local date anywhere is {today})",
            )
        ended = replace(version, effective_to=new.effective_from)
        kept.append(ended)
    versions = tuple(sorted([*kept, new], key=lambda v: v.effective_from))
    written = (new,) if ended is None else (ended, new)
    return Placement(outcome, versions, written, ended)


def _same(stored: Tariff, new: Tariff, current: Sequence[Tariff]) -> bool:
    """Is ``new`` the stored version? Sent open-ended, it is also the stored version that a
    later one ended: loading the same file of versions again changes nothing."""
    if stored.to_document() == new.to_document():
        return True
    ended_by_successor = stored.effective_to is not None and any(
        other.effective_from == stored.effective_to for other in current
    )
    return (
        new.effective_to is None
        and ended_by_successor
        and replace(new, effective_to=stored.effective_to).to_document() == stored.to_document()
    )


def check_ids(tariff: Tariff) -> None:
    """The tariff id and version make document ids: refuse what a store or the id scheme cannot hold."""
    for name, value in (("id", tariff.id), ("version", tariff.version)):
        bad = sorted(_ID_FORBIDDEN.intersection(value))
        if bad or len(value) > 100:
            raise TariffError(name, f"{value!r} must be at most 100 characters without {' '.join(_ID_FORBIDDEN)}")


def _overlap(a: Tariff, b: Tariff) -> bool:
    a_end, b_end = a.effective_to or date.max, b.effective_to or date.max
    return a.effective_from < b_end and b.effective_from < a_end


def _span(version: Tariff) -> str:
    return f"{version.effective_from} {version.effective_until()}"


def overlapping(versions: Sequence[Tariff], start: date, end: date) -> list[Tariff]:
    """The versions pricing any local date of ``[start, end)``, in order."""
    return [v for v in versions if v.effective_from < end and (v.effective_to is None or v.effective_to > start)]


# -- the store ------------------------------------------------------------------------------------------


def digest_of(tariff: Tariff) -> str:
    canonical = json.dumps(tariff.to_document(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def version_document_id(tariff: Tariff) -> str:
    return f"{tariff.id}@{tariff.version}@{digest_of(tariff)[:16]}"


@dataclass(frozen=True)
class StoredTariff:
    tariff_id: str
    name: str
    currency: str
    etag: str
    versions: tuple[Tariff, ...]  # in order of effectiveFrom
    legacy: bool  # a single tariff document not yet converted to versions

    def version(self, version: str) -> Tariff:
        for candidate in self.versions:
            if candidate.version == version:
                return candidate
        raise TariffNotFound(self.tariff_id, version)

    def to_json(self) -> dict[str, Any]:
        return {
            "tariffId": self.tariff_id,
            "name": self.name,
            "currency": self.currency,
            "versions": [v.to_document() for v in self.versions],
        }


class TariffStore:
    """Write conflicts are told apart by what is stored, not by the exception a store raises
    (this package imports no storage code): a failed create of a head that now exists is
    TariffExists; a failed replace of a head whose ETag has moved is a lost race. Anything
    else (the store unavailable) is raised as it came."""

    def __init__(self, documents: Documents) -> None:
        self._tariffs: TariffsContainer = documents.container(TARIFFS.name)

    # -- reading ---------------------------------------------------------------------------------------

    def find(self, tariff_id: str) -> StoredTariff | None:
        head = self._tariffs.find(tariff_id, tariff_id)
        if head is None:
            return None
        return self._stored(head, self._entries(head))

    def get(self, tariff_id: str) -> StoredTariff:
        stored = self.find(tariff_id)
        if stored is None:
            raise TariffNotFound(tariff_id)
        return stored

    def versions(self, tariff_id: str, start: date, end: date) -> list[Tariff]:
        """The versions of the tariff pricing any local date of ``[start, end)``, in order
        (reading only their documents). TariffNotFound when there is no such tariff."""
        head = self._tariffs.find(tariff_id, tariff_id)
        if head is None:
            raise TariffNotFound(tariff_id)
        if _is_legacy(head):
            return overlapping([Tariff.from_document(head)], start, end)
        wanted = [
            entry
            for entry in head.get("versions", [])
            if date.fromisoformat(entry["effectiveFrom"]) < end
            and (entry["effectiveTo"] is None or date.fromisoformat(entry["effectiveTo"]) > start)
        ]
        return [self._read_version(tariff_id, entry) for entry in wanted]

    # -- writing ---------------------------------------------------------------------------------------

    def create(self, tariff: Tariff, *, as_of: datetime) -> StoredTariff:
        """A new tariff with its first version; TariffExists when the id is taken."""
        place_version([], tariff, as_of=as_of)
        self._write_versions([tariff])
        head = self._head_document(tariff.id, [tariff], as_of)
        try:
            created = self._tariffs.create(head)
        except Exception:
            if self._tariffs.find(tariff.id, tariff.id) is not None:
                raise TariffExists(tariff.id) from None
            raise
        return self._stored(created, [tariff])

    def add_version(
        self, tariff: Tariff, *, as_of: datetime, if_match: str | None = None
    ) -> tuple[StoredTariff, Outcome]:
        """Add (or, not yet in use, replace) one version. With ``if_match`` the change is
        made only on the tariff as the caller read it (StaleTariff otherwise); without,
        it is checked again against whatever a racing writer stored."""
        stored, outcomes = self.apply(tariff.id, [tariff], as_of=as_of, if_match=if_match)
        return stored, outcomes[0]

    def apply(
        self, tariff_id: str, versions: Sequence[Tariff], *, as_of: datetime, if_match: str | None = None
    ) -> tuple[StoredTariff, list[Outcome]]:
        """Place several versions of one tariff, in order, as one change of the head:
        all of them or (on a TariffError) none."""
        for _ in range(RETRIES):
            head = self._tariffs.find(tariff_id, tariff_id)
            if head is None:
                raise TariffNotFound(tariff_id)
            if if_match is not None and _bare(head["_etag"]) != _bare(if_match):
                raise StaleTariff(tariff_id)
            current = self._entries(head)
            outcomes, final = plan_versions(current, versions, as_of=as_of)
            if all(outcome == "unchanged" for outcome in outcomes):
                return self._stored(head, current), outcomes
            # Converting an older single document: every version needs its document.
            stored = set() if _is_legacy(head) else {digest_of(v) for v in current}
            self._write_versions([v for v in final if digest_of(v) not in stored])
            try:
                new_head = self._tariffs.replace(self._head_document(tariff_id, final, as_of), etag=head["_etag"])
            except Exception:
                if not self._moved(tariff_id, head["_etag"]):
                    raise
                if if_match is not None:
                    raise StaleTariff(tariff_id) from None
                continue  # someone else changed it first: place the versions again on theirs
            return self._stored(new_head, final), outcomes
        raise TariffBusy(tariff_id)

    def _moved(self, tariff_id: str, etag: str) -> bool:
        now = self._tariffs.find(tariff_id, tariff_id)
        return now is None or _bare(now["_etag"]) != _bare(etag)

    # -- internals -------------------------------------------------------------------------------------

    def _entries(self, head: Mapping[str, Any]) -> list[Tariff]:
        if _is_legacy(head):
            return [Tariff.from_document(head)]
        return [self._read_version(head["tariffId"], entry) for entry in head.get("versions", [])]

    def _read_version(self, tariff_id: str, entry: Mapping[str, Any]) -> Tariff:
        doc = self._tariffs.find(entry["documentId"], tariff_id)
        if doc is None or doc.get("digest") != entry["digest"]:
            # Written before the head pointed at it and never replaced, so this is damage, not a race.
            raise LookupError(
                f"tariff {tariff_id} version {entry['version']}: document {entry['documentId']} is missing"
            )
        return Tariff.from_document(doc["tariff"])

    def _write_versions(self, versions: Sequence[Tariff]) -> None:
        for version in versions:
            digest = digest_of(version)
            doc = {
                "id": version_document_id(version),
                "tariffId": version.id,
                "kind": VERSION_KIND,
                "version": version.version,
                "digest": digest,
                "tariff": version.to_document(),
            }
            try:
                self._tariffs.create(doc)
            except Exception:
                # Already there is the same content, by its id (a retry, or an identical
                # version written before); anything else is raised.
                if self._tariffs.find(doc["id"], version.id) is None:
                    raise

    def _head_document(self, tariff_id: str, versions: Sequence[Tariff], as_of: datetime) -> dict[str, Any]:
        latest = versions[-1]
        return {
            "id": tariff_id,
            "tariffId": tariff_id,
            "kind": HEAD_KIND,
            "name": latest.name,
            "currency": latest.currency,  # read by contract checks as the tariff's currency
            "taxRounding": latest.tax_rounding.value,
            "versions": [
                {
                    "version": v.version,
                    "effectiveFrom": v.effective_from.isoformat(),
                    "effectiveTo": v.effective_to.isoformat() if v.effective_to else None,
                    "documentId": version_document_id(v),
                    "digest": digest_of(v),
                }
                for v in versions
            ],
            "updatedAt": as_of.astimezone(UTC).isoformat(),
        }

    def _stored(self, head: Mapping[str, Any], versions: Sequence[Tariff]) -> StoredTariff:
        latest = versions[-1]
        return StoredTariff(
            tariff_id=head["tariffId"] if "tariffId" in head else head["id"],
            name=latest.name,
            currency=latest.currency,
            etag=str(head["_etag"]),
            versions=tuple(versions),
            legacy=_is_legacy(head),
        )


def plan_versions(
    current: Sequence[Tariff], versions: Sequence[Tariff], *, as_of: datetime
) -> tuple[list[Outcome], list[Tariff]]:
    """Each version placed in turn on the ones before it: the outcome of each, and the
    versions afterwards. TariffError on the first one refused."""
    outcomes: list[Outcome] = []
    placed = list(current)
    for version in versions:
        placement = place_version(placed, version, as_of=as_of)
        outcomes.append(placement.outcome)
        placed = list(placement.versions)
    return outcomes, placed


def _is_legacy(head: Mapping[str, Any]) -> bool:
    return head.get("kind") != HEAD_KIND


def _bare(etag: str) -> str:
    value = etag.strip()
    value = value.removeprefix("W/")
    return value.strip('"')


# -- bulk loading -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BulkItemError:
    index: int  # the item's position in the file, from 0
    field: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class BulkChange:
    index: int
    tariff_id: str
    version: str
    action: Literal["create-tariff", "add-version", "replace-version", "unchanged"]
    ends: Tariff | None = None  # the version this one ends on its first day

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "index": self.index,
            "tariffId": self.tariff_id,
            "version": self.version,
            "action": self.action,
        }
        if self.ends is not None:
            doc["ends"] = {"version": self.ends.version, "effectiveTo": str(self.ends.effective_to)}
        return doc


@dataclass(frozen=True)
class BulkPlan:
    changes: tuple[BulkChange, ...]
    errors: tuple[BulkItemError, ...]
    etags: Mapping[str, str | None]  # per tariff, the head's ETag the plan was made on (None: new tariff)
    tariffs: Mapping[str, tuple[Tariff, ...]]  # per tariff, the versions to place, in file order

    @property
    def applicable(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for change in self.changes:
            counts[change.action] = counts.get(change.action, 0) + 1
        return {
            "applicable": self.applicable,
            "items": len(self.changes) + len({e.index for e in self.errors}),
            "counts": dict(sorted(counts.items())),
            "changes": [c.to_json() for c in self.changes],
            "errors": [e.to_json() for e in self.errors],
        }


_ACTIONS: dict[Outcome, Literal["create-tariff", "add-version", "replace-version", "unchanged"]] = {
    "created": "create-tariff",
    "added": "add-version",
    "replaced": "replace-version",
    "unchanged": "unchanged",
}


def plan_bulk(store: TariffStore, items: Sequence[Any], *, as_of: datetime) -> BulkPlan:
    """What loading ``items`` (tariff version documents, TARIFF_FORMAT.md) would change,
    every refused item named by its index and field. Versions of one tariff are placed in
    file order, each on the ones before it."""
    errors: list[BulkItemError] = []
    parsed: list[tuple[int, Tariff]] = []
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            errors.append(BulkItemError(index, "", f"a tariff version is a JSON object, got {type(item).__name__}"))
            continue
        try:
            parsed.append((index, Tariff.from_document(item)))
        except TariffError as error:
            errors.append(BulkItemError(index, error.field, error.problem))
    changes: list[BulkChange] = []
    etags: dict[str, str | None] = {}
    tariffs: dict[str, list[Tariff]] = {}
    placed: dict[str, list[Tariff]] = {}
    for index, tariff in parsed:
        if tariff.id not in placed:
            stored = store.find(tariff.id)
            etags[tariff.id] = stored.etag if stored else None
            placed[tariff.id] = list(stored.versions) if stored else []
        try:
            placement = place_version(placed[tariff.id], tariff, as_of=as_of)
        except TariffError as error:
            errors.append(BulkItemError(index, error.field, error.problem))
            continue
        placed[tariff.id] = list(placement.versions)
        tariffs.setdefault(tariff.id, []).append(tariff)
        changes.append(BulkChange(index, tariff.id, tariff.version, _ACTIONS[placement.outcome], placement.ended))
    errors.sort(key=lambda e: e.index)
    return BulkPlan(tuple(changes), tuple(errors), etags, {k: tuple(v) for k, v in tariffs.items()})


def apply_bulk(store: TariffStore, plan: BulkPlan, *, as_of: datetime) -> list[str]:
    """Apply a plan with no errors, tariff by tariff, each on the head it was planned on:
    StaleTariff when one changed since (the tariffs before it are applied; loading the
    same items again finds them unchanged). Returns the tariff ids changed."""
    if not plan.applicable:
        raise ValueError("a plan with errors is not applied: nothing is")
    # Every tariff checked before any is written, so a change made since the plan stops
    # the load before it starts; only a change in the moment of writing can stop it midway.
    for tariff_id, planned in plan.etags.items():
        now = store.find(tariff_id)
        if (None if now is None else _bare(now.etag)) != (None if planned is None else _bare(planned)):
            raise StaleTariff(tariff_id)
    changed = []
    for tariff_id, versions in plan.tariffs.items():
        etag = plan.etags[tariff_id]
        if etag is None:
            first, *rest = versions
            created = store.create(first, as_of=as_of)
            etag, versions = created.etag, tuple(rest)
        if versions:
            _, outcomes = store.apply(tariff_id, versions, as_of=as_of, if_match=etag)
            if all(outcome == "unchanged" for outcome in outcomes) and plan.etags[tariff_id] is not None:
                continue
        changed.append(tariff_id)
    return changed
