"""Rating: one service point's consumption over one billing period, priced by its tariff.

The period is half-open local dates ``[period_start, period_end)`` of the service point; its
bounds in UTC are the local midnights built from those dates, so a DST day is 23 or 25 hours
long and still one supply day. Rating sees only the period: an interval belongs to it when
its start lies in ``[first local midnight, last local midnight)``; intervals outside are
ignored, which is what lets a period be split at any day and rated in parts. It refuses
consumption that does not reach across the whole period (a short series would quietly
under-bill); finding or estimating missing data is the caller's job.

Splits. ``tariff`` is one version or all the versions of a tariff; a version change inside
the period splits it by days into parts, each priced by its own version, with lines that
name their version and dates. Register usage is shared between the parts by days
(RegisterConsumption.wh_between); a register read spanning more than the period (a move-in
or move-out between reads) gives the period its share the same way. Per-day quantities and
daily block thresholds split exactly, so a price change on day d rates like two bills split
at d; per-bill block thresholds and per-bill minimums are shared between the parts by days
instead of granted in full to each. Dates no version covers are refused, never priced at zero.

Network pass-through. A retail version naming ``networkTariffId`` needs that tariff's
versions in ``network``: priced on the same consumption, split at its own version changes,
its lines follow the retail lines and carry its id. Both must use one currency; a tax code
they share must have one rate; the retail tariff's tax rounding rules the invoice.

Money: quantity x rate is exact; each line is rounded once, half-up, to cents; the subtotal
is the sum of rounded lines; tax follows the tariff's rounding rule; total = subtotal + tax.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.rating.calendar import local_midnight_utc
from shared.rating.components import DemandCharge
from shared.rating.consumption import IntervalConsumption, RegisterConsumption
from shared.rating.pricing import Part, PricedPart, price_part
from shared.rating.results import DemandReading, PendingLine, RatedCharges
from shared.rating.tariff import Tariff
from shared.rating.tax import tax_lines
from shared.rating.usage import Channel, PartUsage, RatingError

__all__ = ["RatedCharges", "RatingError", "rate"]

GENERAL_REGISTER = "E1"


def rate(
    *,
    tariff: Tariff | Sequence[Tariff],
    period_start: date,
    period_end: date,
    time_zone: str,
    consumption: Channel | Mapping[str, Channel],
    network: Tariff | Sequence[Tariff] | None = None,
    prior_demand: Mapping[str, Sequence[Decimal]] | None = None,
    meters: int = 1,
) -> RatedCharges:
    """Price ``consumption`` over local dates ``[period_start, period_end)`` of a service point in ``time_zone``.

    ``consumption`` is the general (E1) channel, or channels by register suffix
    (``{"E1": ..., "E2": ..., "B1": ...}``). ``prior_demand`` holds, for each ratcheted demand
    charge by component id, the measured monthly maxima of earlier months, oldest first.
    ``meters`` counts the meters that per-meter fixed charges are charged on."""
    zone = _zone(time_zone, "time_zone")
    _check_period(period_start, period_end)
    if isinstance(meters, bool) or not isinstance(meters, int) or meters < 1:
        raise RatingError(f"meters: must be a whole number of at least 1, got {meters!r}")
    retail = _versions(tariff, "tariff")
    channels, labels = _channels(consumption)
    _check_coverage(channels, labels, period_start, period_end, zone)
    retail_parts = _parts(retail, period_start, period_end)
    network_parts = _network_parts(retail_parts, network, period_start, period_end)
    history = _prior_demand(prior_demand, [version for version, _, _ in retail_parts + network_parts])

    priced: list[PricedPart] = []
    for version, start, end in retail_parts + network_parts:
        tou_zone = _zone(version.time_zone, f"tariff {version.id} timeZone") if version.time_zone else zone
        usage = PartUsage(start, end, zone, tou_zone, channels, labels)
        bill_days = (period_end - period_start).days
        priced.append(price_part(Part(version, start, end, period_start, bill_days, usage, meters, history)))

    currency, rounding = retail[0].currency, retail[0].tax_rounding
    lines = tuple(line for part in priced for line in part.lines)
    pending: tuple[PendingLine, ...] = tuple(p for part in priced for p in part.pending)
    demand: tuple[DemandReading, ...] = tuple(d for part in priced for d in part.demand)
    return RatedCharges.of(lines, tax_lines(lines, rounding, currency), currency, pending, demand)


# -- tariff versions ------------------------------------------------------------------------------------


def _versions(tariff: Tariff | Sequence[Tariff], name: str) -> list[Tariff]:
    """The versions of one tariff, in order, checked to agree and not to overlap."""
    versions = [tariff] if isinstance(tariff, Tariff) else list(tariff)
    if not versions:
        raise RatingError(f"{name}: no tariff version given")
    for version in versions:
        if not isinstance(version, Tariff):
            raise TypeError(f"{name}: expected Tariff versions, got {version!r}")
    versions.sort(key=lambda v: v.effective_from)
    first = versions[0]
    for earlier, later in pairwise(versions):
        if later.id != first.id:
            raise RatingError(f"{name}: versions of different tariffs given together: {first.id!r} and {later.id!r}")
        if later.currency != first.currency:
            raise RatingError(
                f"{name}: tariff {first.id} version {later.version} is in {later.currency} "
                f"but version {first.version} in {first.currency}"
            )
        if later.tax_rounding is not first.tax_rounding:
            raise RatingError(
                f"{name}: tariff {first.id} versions {first.version} and {later.version} round tax differently "
                f"({first.tax_rounding.value}, {later.tax_rounding.value}): one invoice has one rule"
            )
        if earlier.effective_to is None or earlier.effective_to > later.effective_from:
            raise RatingError(
                f"{name}: tariff {first.id} versions {earlier.version} ({earlier.effective_from} "
                f"{earlier.effective_until()}) and {later.version} (from {later.effective_from}) overlap"
            )
    return versions


def _parts(versions: list[Tariff], start: date, end: date) -> list[tuple[Tariff, date, date]]:
    """The period cut at version changes: (version, start, end) for each part, in order."""
    parts: list[tuple[Tariff, date, date]] = []
    cursor = start
    for version in versions:
        if cursor >= end:
            break
        if version.effective_to is not None and version.effective_to <= cursor:
            continue
        if version.effective_from >= end:
            break
        if version.effective_from > cursor:
            _uncovered(versions, cursor, version.effective_from, start, end)
        stop = min(end, version.effective_to or end)
        parts.append((version, cursor, stop))
        cursor = stop
    if cursor < end:
        _uncovered(versions, cursor, end, start, end)
    return parts


def _uncovered(versions: list[Tariff], gap_start: date, gap_end: date, start: date, end: date) -> None:
    known = "; ".join(f"{v.version} from {v.effective_from} {v.effective_until()}" for v in versions)
    raise RatingError(
        f"usage outside the tariff's effective dates: tariff {versions[0].id} has no version for "
        f"{gap_start}..{gap_end} of the period {start}..{end} (versions: {known})"
    )


def _network_parts(
    retail_parts: list[tuple[Tariff, date, date]], network: Tariff | Sequence[Tariff] | None, start: date, end: date
) -> list[tuple[Tariff, date, date]]:
    named = {version.network_tariff_id for version, _, _ in retail_parts}
    retail = retail_parts[0][0]
    if named == {None}:
        if network is not None:
            raise RatingError(f"network: tariff {retail.id} names no network tariff, so none can be passed through")
        return []
    if len(named) > 1:
        shown = ", ".join(sorted(repr(n) for n in named))
        raise RatingError(
            f"tariff {retail.id}: the versions in {start}..{end} name different network tariffs ({shown})"
        )
    (network_id,) = named
    if network is None:
        raise RatingError(
            f"network: tariff {retail.id} passes through network tariff {network_id}: pass its versions as network"
        )
    versions = _versions(network, "network")
    grid = versions[0]
    if grid.id != network_id:
        raise RatingError(f"network: tariff {retail.id} passes through {network_id} but {grid.id} was given")
    if grid.currency != retail.currency:
        raise RatingError(
            f"network: currency mismatch: network tariff {grid.id} is priced in {grid.currency} "
            f"but tariff {retail.id} in {retail.currency}"
        )
    for version in versions:
        if version.network_tariff_id is not None:
            raise RatingError(f"network: network tariff {grid.id} itself names a network tariff; nesting is refused")
        for code, tax_rate in version.taxes.items():
            if code in retail.taxes and retail.taxes[code] != tax_rate:
                raise RatingError(
                    f"network: tax code {code} is {tax_rate} in network tariff {grid.id} "
                    f"but {retail.taxes[code]} in tariff {retail.id}"
                )
    return _parts(versions, start, end)


def _prior_demand(
    prior: Mapping[str, Sequence[Decimal]] | None, versions: list[Tariff]
) -> Mapping[str, Sequence[Decimal]]:
    ratcheted: dict[str, str] = {}
    for version in versions:
        for component in version.components:
            ratchets = isinstance(component, DemandCharge) and component.ratchet is not None
            if ratchets and ratcheted.setdefault(component.id, version.id) != version.id:
                raise RatingError(
                    f"prior_demand: ratcheted demand charge {component.id!r} is in both tariff "
                    f"{ratcheted[component.id]} and {version.id}; give them different ids"
                )
    prior = dict(prior or {})
    for component_id, maxima in prior.items():
        for index, value in enumerate(maxima):
            if isinstance(value, bool) or not isinstance(value, Decimal | int) or value < 0:
                raise RatingError(
                    f"prior_demand[{component_id!r}][{index}]: must be a non-negative Decimal, got {value!r}"
                )
    return prior


# -- consumption ----------------------------------------------------------------------------------------


def _channels(consumption: Channel | Mapping[str, Channel]) -> tuple[dict[str, Channel], dict[str, str]]:
    if isinstance(consumption, IntervalConsumption | RegisterConsumption):
        return {GENERAL_REGISTER: consumption}, {GENERAL_REGISTER: "consumption"}
    if not isinstance(consumption, Mapping) or not consumption:
        raise TypeError(
            "consumption: expected IntervalConsumption or RegisterConsumption, or a non-empty mapping of them "
            f"by register suffix, got {consumption!r}"
        )
    channels, labels = {}, {}
    for register, channel in consumption.items():
        if not isinstance(register, str) or not register:
            raise TypeError(f"consumption: register suffixes must be non-empty strings, got {register!r}")
        if not isinstance(channel, IntervalConsumption | RegisterConsumption):
            raise TypeError(f"consumption[{register!r}]: expected IntervalConsumption or RegisterConsumption")
        channels[register], labels[register] = channel, f"consumption[{register!r}]"
    return channels, labels


def _check_coverage(
    channels: Mapping[str, Channel], labels: Mapping[str, str], start: date, end: date, zone: ZoneInfo
) -> None:
    start_utc, end_utc = local_midnight_utc(start, zone), local_midnight_utc(end, zone)
    for register, channel in channels.items():
        label = labels[register]
        if isinstance(channel, RegisterConsumption):
            if channel.from_date > start or channel.to_date < end:
                raise RatingError(
                    f"{label}: register usage covers {channel.from_date}..{channel.to_date} but the period is "
                    f"{start}..{end}; reads must span the period (a longer span is prorated by days)"
                )
        elif channel.start > start_utc or channel.end < end_utc:
            raise RatingError(
                f"{label}: intervals cover {channel.start.isoformat()}..{channel.end.isoformat()} but the "
                f"period {start}..{end} in {zone.key} needs {start_utc.isoformat()}..{end_utc.isoformat()}"
            )


def _check_period(start: date, end: date) -> None:
    for name, value in (("period_start", start), ("period_end", end)):
        if isinstance(value, datetime) or not isinstance(value, date):
            raise TypeError(f"{name}: must be a local date, got {type(value).__name__} {value!r}")
    if end <= start:
        raise RatingError(f"period_end: {end} must be after period_start {start}")


def _zone(name: str, field: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise RatingError(f"{field}: unknown IANA time zone {name!r}") from None
