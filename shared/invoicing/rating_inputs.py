"""Everything rating needs for one account's bill, gathered from storage, or the reason not.

``gather`` is the one place the bill cycle reads what it rates:
- the tariff from the account's supply contract (the account's own ``tariffId`` when it
  has none: accounts loaded as plain documents), every version pricing a day of the period
  (shared/rating/tariff_store.py), and the network tariff's versions when the retail
  tariff passes one through;
- the consumption after VEE: validation and estimation run first, so interval data is the
  series with VEE's substitutes in place, register usage the difference of the reads
  nearest the period's bounds (within ``READ_TOLERANCE``), turned through the dials'
  rollover and times the register's multiplier. Estimated data is used and said so in
  ``notes``, which the invoice prints;
- for a ratcheted demand charge, the measured maximum of each earlier month in the ratchet's
  window, from the account's issued invoices. Invoices, not interval data, because an
  issued invoice never changes: the ratchet on this bill is explained by figures the
  customer already holds, while interval data can be corrected after billing and would
  then move a ratchet no earlier bill shows (and reading a year of intervals per bill costs
  more). An invoice stores the measured readings in ``demand`` (RatedCharges.demand); an
  older one without them gives its demand line's quantity, the measured demand unless
  the line says a ratchet lifted it, in which case the bill is skipped rather than
  ratcheting on a ratchet.

A ``Skip`` carries the reason the bill-run report shows. ``rate_for_bill`` is then the one
pure call that prices the inputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from shared.customers.contract import Contract
from shared.customers.records import Account, ServicePoint
from shared.invoicing.bill_cycle import BillingPeriod, add_months
from shared.platform.documents import Container, DocumentStore
from shared.rating import IntervalConsumption, RatedCharges, RegisterConsumption, Tariff, rate
from shared.rating.components import GENERAL, DailySupply, DemandCharge, FixedCharge
from shared.rating.results import DemandReading
from shared.rating.tariff_store import TariffNotFound, TariffStore
from shared.rating.tax import tax_lines
from shared.rating.usage import Channel
from shared.readings.history import (
    READ_TOLERANCE,
    REAL_READ_TYPES,
    channel_intervals,
    interval_day_id,
    interval_series,
    local_period_utc,
    register_setup,
)
from shared.readings.validation import register_advance
from shared.readings.vee_service import market_days, run_vee
from shared.resources import CONTRACTS, INVOICES, METERS, READINGS

DEMAND_UNITS = ("kW", "kVA")
SUPERSEDED = (None, "draft", "void", "credited")  # invoice statuses whose demand no longer stands
RATCHET_NOTE = "ratchet:"  # what pricing.py writes into a demand line the ratchet lifted


class _Unset:
    """No contract given: look it up."""


_UNSET = _Unset()


@dataclass(frozen=True)
class Skip:
    reason: str  # shown in the bill-run report, e.g. "missing reads beyond tolerance: ..."


@dataclass(frozen=True)
class RatingInputs:
    tariff: tuple[Tariff, ...]  # the versions pricing the period, in order
    network: tuple[Tariff, ...] | None  # the passed-through network tariff's versions
    consumption: Mapping[str, Channel]  # by register suffix: "E1" general, "E2", "B1"...
    prior_demand: Mapping[str, tuple[Decimal, ...]]  # ratcheted component -> monthly maxima, oldest first
    notes: tuple[str, ...] = ()  # estimated data used, and why a contract's network tariff was not priced

    @property
    def currency(self) -> str:
        return self.tariff[0].currency


def gather(
    documents: DocumentStore,
    account: Account,
    service_point: ServicePoint,
    period: BillingPeriod,
    *,
    as_of: datetime,
    contract: Contract | _Unset | None = _UNSET,
) -> RatingInputs | Skip:
    """What rating needs to bill ``account`` at ``service_point`` for ``period``, or why it
    cannot be billed yet. ``contract``: the billing contract when the caller has looked it up."""
    if isinstance(contract, _Unset):
        contract = _contract(documents, account, service_point, period)
    tariff_id = contract.tariff_id if contract else account.tariff_id
    store = TariffStore(documents)
    tariff = _versions(store, tariff_id, period)
    if isinstance(tariff, Skip):
        return tariff
    notes: list[str] = []
    network = _network(store, tariff, contract, period, notes)
    if isinstance(network, Skip):
        return network
    history = _prior_demand(documents, account, period, [*tariff, *(network or ())])
    if isinstance(history, Skip):
        return history
    consumption = _consumption(documents, service_point, period, [*tariff, *(network or ())], as_of, notes)
    if isinstance(consumption, Skip):
        return consumption
    return RatingInputs(tuple(tariff), network, consumption, history, tuple(notes))


def rate_for_bill(inputs: RatingInputs, period: BillingPeriod, time_zone: str) -> RatedCharges:
    """Price the gathered inputs over the period, in the service point's time zone."""
    return rate(
        tariff=inputs.tariff,
        period_start=period.start,
        period_end=period.end,
        time_zone=time_zone,
        consumption=inputs.consumption,
        network=inputs.network,
        prior_demand=inputs.prior_demand,
    )


# Fixed fees: charged by the day or the month whatever was used. Everything else (energy,
# demand, export credits, minimums and discounts) is a variable fee.
FIXED_FEES = (DailySupply, FixedCharge)


@dataclass(frozen=True)
class FeeParts:
    """A bill whose fixed and variable fees run on different cycles (``FeeCycles``)."""

    rated: RatedCharges
    notes: tuple[str, ...]
    currency: str


def billing_contract(
    documents: DocumentStore, account: Account, service_point: ServicePoint, period: BillingPeriod
) -> Contract | None:
    return _contract(documents, account, service_point, period)


def rate_fee_parts(
    documents: DocumentStore,
    account: Account,
    service_point: ServicePoint,
    *,
    variable: BillingPeriod | None,
    fixed: BillingPeriod | None,
    as_of: datetime,
    contract: Contract | None,
) -> FeeParts | Skip:
    """The variable fees over their cycle and the fixed fees over theirs, on one bill: each
    part priced by the tariff versions of its own period, its lines carrying their periods,
    tax worked out once over all the lines. ``contract``: the bill's, whose cycles these are."""
    lines: list[Any] = []
    notes: list[str] = []
    demand: tuple[DemandReading, ...] = ()
    priced_by: Tariff | None = None
    if variable is not None:
        inputs = gather(documents, account, service_point, variable, as_of=as_of, contract=contract)
        if isinstance(inputs, Skip):
            return inputs
        tariff = _fees(inputs.tariff, fixed=False)
        if tariff:
            rated = rate(
                tariff=tariff,
                period_start=variable.start,
                period_end=variable.end,
                time_zone=service_point.time_zone,
                consumption=inputs.consumption,
                network=_fees(inputs.network or (), fixed=False) or None,
                prior_demand=inputs.prior_demand,
            )
            lines.extend(rated.lines)
            demand = rated.demand
        notes.extend(inputs.notes)
        priced_by = inputs.tariff[0]
    if fixed is not None:
        store = TariffStore(documents)
        versions = _versions(store, contract.tariff_id if contract else account.tariff_id, fixed)
        if isinstance(versions, Skip):
            return versions
        network = _network(store, versions, contract, fixed, notes)
        if isinstance(network, Skip):
            return network
        tariff = _fees(versions, fixed=True)
        if tariff:
            # Fixed fees ignore usage; the engine still wants a channel to price against.
            nothing_used = RegisterConsumption(0, fixed.start, fixed.end)
            rated = rate(
                tariff=tariff,
                period_start=fixed.start,
                period_end=fixed.end,
                time_zone=service_point.time_zone,
                consumption=nothing_used,
                network=_fees(network or (), fixed=True) or None,
            )
            lines.extend(rated.lines)
        priced_by = priced_by or versions[0]
    assert priced_by is not None, "a bill carries at least one of its fee parts"
    currency = priced_by.currency
    taxes = tax_lines(lines, priced_by.tax_rounding, currency)
    return FeeParts(RatedCharges.of(tuple(lines), taxes, currency, demand=demand), tuple(notes), currency)


def _fees(versions: Sequence[Tariff], *, fixed: bool) -> tuple[Tariff, ...]:
    """The versions with only their fixed (or only their variable) components; none when no
    version has any."""
    kept = [
        replace(version, components=tuple(c for c in version.components if isinstance(c, FIXED_FEES) == fixed))
        for version in versions
    ]
    return tuple(kept) if any(version.components for version in kept) else ()


# -- tariffs -------------------------------------------------------------------------------------------


def _contract(
    documents: DocumentStore, account: Account, service_point: ServicePoint, period: BillingPeriod
) -> Contract | None:
    """The cycle-billed contract of the account here covering the period (the latest started, if two)."""
    docs = documents.container(CONTRACTS.name).query(
        {"kind": "contract", "accountId": account.account_id}, partition=service_point.service_point_id
    )
    contracts = [Contract.from_document(doc) for doc in docs]
    covering = [c for c in contracts if c.cycle_billed and c.overlaps(period.start, period.end)]
    return max(covering, key=lambda c: c.start, default=None)


def _versions(store: TariffStore, tariff_id: str, period: BillingPeriod, role: str = "tariff") -> list[Tariff] | Skip:
    try:
        versions = store.versions(tariff_id, period.start, period.end)
    except TariffNotFound:
        return Skip(f"no {role} {tariff_id!r}")
    gap = _first_gap(versions, period)
    if gap is not None:
        return Skip(f"{role} {tariff_id} has no version for {gap[0]}..{gap[1]} of the period {_span(period)}")
    return versions


def _first_gap(versions: Sequence[Tariff], period: BillingPeriod) -> tuple[date, date] | None:
    cursor = period.start
    for version in versions:
        if version.effective_from > cursor:
            return cursor, min(version.effective_from, period.end)
        cursor = max(cursor, version.effective_to or period.end)
    return (cursor, period.end) if cursor < period.end else None


def _network(
    store: TariffStore, tariff: list[Tariff], contract: Contract | None, period: BillingPeriod, notes: list[str]
) -> tuple[Tariff, ...] | Skip | None:
    """The network tariff the retail tariff passes through (the engine's rule: the retail
    version names it). The contract's network tariff must agree; a contract naming one on a
    retail tariff that passes nothing through is billed on the retail prices alone."""
    named = {v.network_tariff_id for v in tariff} - {None}
    on_contract = contract.network_tariff if contract else None
    retail = tariff[0].id
    if len(named) > 1:
        return Skip(f"tariff {retail}: its versions in {_span(period)} pass through different network tariffs")
    if not named:
        if on_contract:
            notes.append(f"network tariff {on_contract} is included in tariff {retail}'s prices (not passed through)")
        return None
    (network_id,) = named
    assert network_id is not None
    if on_contract and on_contract != network_id:
        return Skip(
            f"contract {contract.contract_id if contract else ''} names network tariff {on_contract} "
            f"but tariff {retail} passes through {network_id}"
        )
    versions = _versions(store, network_id, period, role="network tariff")
    return versions if isinstance(versions, Skip) else tuple(versions)


def _span(period: BillingPeriod) -> str:
    return f"{period.start}..{period.end}"


# -- demand history -------------------------------------------------------------------------------------


def _prior_demand(
    documents: DocumentStore, account: Account, period: BillingPeriod, versions: Sequence[Tariff]
) -> dict[str, tuple[Decimal, ...]] | Skip:
    ratchets = {
        (version.id, c.id): c.ratchet.months
        for version in versions
        for c in version.components
        if isinstance(c, DemandCharge) and c.ratchet is not None
    }
    if not ratchets:
        return {}
    first_month = period.start.replace(day=1)
    maxima: dict[tuple[str, str, date], Decimal] = {}
    invoices = documents.container(INVOICES.name).query({"accountId": account.account_id}, partition=account.account_id)
    for invoice in invoices:
        if invoice.get("kind", "invoice") != "invoice" or invoice.get("status") in SUPERSEDED:
            continue  # a credit note, a draft, or an invoice a credit note took back (a rebill replaced it)
        if "lines" not in invoice or not invoice.get("periodEnd"):
            continue  # not a period's invoice
        if date.fromisoformat(invoice["periodEnd"]) > period.start:
            continue  # this period's own (a rebill) or a later one
        readings = _readings(invoice, ratchets)
        if isinstance(readings, Skip):
            return readings
        for reading in readings:
            key = (reading.tariff_id, reading.component_id, reading.month)
            maxima[key] = max(maxima.get(key, reading.measured), reading.measured)
    history: dict[str, tuple[Decimal, ...]] = {}
    for (tariff_id, component_id), months in ratchets.items():
        since = add_months(first_month, -months)
        history[component_id] = tuple(
            value
            for (tid, cid, month), value in sorted(maxima.items(), key=lambda item: item[0][2])
            if tid == tariff_id and cid == component_id and since <= month < period.start
        )
    return history


def _readings(invoice: Mapping[str, Any], ratchets: Mapping[tuple[str, str], int]) -> list[DemandReading] | Skip:
    if "demand" in invoice:
        return [DemandReading.from_json(d) for d in invoice["demand"]]
    readings = []
    for line in invoice["lines"]:
        key = (line.get("tariffId"), line.get("componentId"))
        if key not in ratchets or line.get("unit") not in DEMAND_UNITS:
            continue
        start = date.fromisoformat(line["periodStart"])
        if RATCHET_NOTE in line.get("description", ""):
            return Skip(
                f"demand history: invoice {invoice.get('number') or invoice['id']} billed {key[1]} for "
                f"{start:%Y-%m} lifted by a ratchet and does not store the measured demand"
            )
        readings.append(DemandReading(key[0], key[1], start.replace(day=1), Decimal(line["quantity"]), line["unit"]))
    return readings


# -- consumption ----------------------------------------------------------------------------------------


def _registers(versions: Sequence[Tariff]) -> list[str]:
    """The register suffixes the tariff prices; the general one always (fixed charges still bill a meter)."""
    named = {getattr(c, "register", GENERAL) for v in versions for c in v.components}
    return sorted(named | {GENERAL})


def _consumption(
    documents: DocumentStore,
    point: ServicePoint,
    period: BillingPeriod,
    versions: Sequence[Tariff],
    as_of: datetime,
    notes: list[str],
) -> dict[str, Channel] | Skip:
    # VEE first: findings recorded, gaps and rejected values estimated, so what follows reads
    # the data as billing may use it. It covers the service point's own register.
    report = run_vee(documents, service_point_id=point.service_point_id, start=period.start, end=period.end, now=as_of)
    readings = documents.container(READINGS.name)
    meter = documents.container(METERS.name).find(point.meter_serial, point.meter_serial)
    channels: dict[str, Channel] = {}
    for register in _registers(versions):
        source = point.register_id if register == GENERAL else register
        if point.meter_kind == "interval":
            channel = _interval(readings, point, source, period, report.not_estimated, notes)
        else:
            channel = _register(readings, point, meter, source, period, notes)
        if isinstance(channel, Skip):
            return channel
        channels[register] = channel
    return channels


def _interval(
    readings: Container,
    point: ServicePoint,
    suffix: str,
    period: BillingPeriod,
    not_estimated: list[dict[str, Any]],
    notes: list[str],
) -> IntervalConsumption | Skip:
    sp = point.service_point_id
    start_utc, end_utc = local_period_utc(period.start, period.end, point.time_zone)
    if suffix == point.register_id:
        held = _interval_hold(readings, sp, suffix, start_utc, end_utc)
        if held is not None:
            return held
    series = interval_series(readings, sp, suffix=suffix, start_utc=start_utc, end_utc=end_utc)
    if series is None or series.missing:
        missing = "all" if series is None else str(series.missing)
        why = "; ".join(f"{n.get('day', '')} {n['reason']}".strip() for n in not_estimated[:3])
        return Skip(
            f"missing reads beyond tolerance: {missing} intervals of register {suffix} in {_span(period)} "
            f"have no reading after VEE" + (f" (not estimated: {why})" if why else "")
        )
    quality = channel_intervals(readings, sp, suffix=suffix, start_utc=start_utc, end_utc=end_utc).buckets(
        [start_utc, end_utc], series.interval_minutes
    )[0]
    substituted = {letter: count for letter, count in quality.quality.items() if letter != "A"}
    if substituted:
        counts = ", ".join(f"{count} {letter}" for letter, count in sorted(substituted.items()))
        notes.append(f"register {suffix}: intervals estimated or substituted ({counts}) of {len(series.wh)}")
    return IntervalConsumption(start=series.start, interval_minutes=series.interval_minutes, wh=series.wh)


def _interval_hold(readings: Container, sp: str, suffix: str, start_utc: datetime, end_utc: datetime) -> Skip | None:
    """Rejected values VEE could not replace by an estimate are not billed."""
    findings = readings.query({"kind": "finding", "registerId": suffix, "status": "open"}, partition=sp)
    first_day, end_day = market_days(start_utc, end_utc)
    for finding in sorted(findings, key=lambda f: f.get("day") or ""):
        if finding.get("severity") != "reject" or not finding.get("day"):
            continue
        day = date.fromisoformat(finding["day"])
        if not first_day <= day < end_day or finding.get("rule") == "missing-day":
            continue  # outside the period, or a gap (reported as missing reads)
        stored = readings.find(interval_day_id(suffix, day), sp)
        if stored is not None and not stored.get("estimate"):
            return Skip(f"validation hold: {finding['rule']} on {day}: {finding['message']}")
    return None


def _register(
    readings: Container,
    point: ServicePoint,
    meter: Mapping[str, Any] | None,
    register_id: str,
    period: BillingPeriod,
    notes: list[str],
) -> RegisterConsumption | Skip:
    sp = point.service_point_id
    dials, multiplier = register_setup(meter, register_id)
    reads = [
        r
        for r in readings.query(
            {"kind": "register", "meterSerial": point.meter_serial, "registerId": register_id}, partition=sp
        )
        if not r.get("supersededBy")
    ]
    start_utc, end_utc = local_period_utc(period.start, period.end, point.time_zone)
    ends = []
    for bound in (start_utc, end_utc):
        near = sorted(
            (r for r in reads if abs(datetime.fromisoformat(r["readAt"]) - bound) <= READ_TOLERANCE),
            key=lambda r: abs(datetime.fromisoformat(r["readAt"]) - bound),
        )
        usable = [r for r in near if not r.get("rejected")]
        if usable:
            ends.append(usable[0])
        elif near:
            return Skip(f"validation hold: register {register_id} read at {near[0]['readAt']}: {near[0]['rejected']}")
        else:
            return Skip(
                f"missing reads beyond tolerance: no usable read of register {register_id} within "
                f"{READ_TOLERANCE.days} days of {bound.isoformat()} (VEE could not estimate one)"
            )
    first, last = ends
    if first["id"] == last["id"]:
        return Skip(
            f"missing reads beyond tolerance: one read of register {register_id} serves both ends of the period"
        )
    before, after = Decimal(first["value"]), Decimal(last["value"])
    advance = register_advance(before, after, dial_count=dials)
    if advance is None:
        return Skip(f"validation hold: register {register_id} went backwards ({before} -> {after}) with no rollover")
    wh = int((advance * multiplier * 1000).to_integral_value(ROUND_HALF_UP))
    for read in ends:
        if read.get("readType") not in REAL_READ_TYPES:
            notes.append(f"register {register_id}: the read at {read['readAt']} is estimated ({read.get('readType')})")
    return RegisterConsumption(wh=wh, from_date=period.start, to_date=period.end)
