"""Validation: the checks a meter-data team runs before billing may use a read.

Pure domain: no storage, no HTTP. Each check returns ``Finding``s that say which rule, where
(service point, register, market day and intervals, or read time) and why, with the
numbers. A ``reject`` finding means billing must not use the value as it is (estimation
fills it in); a ``flag`` means the value stands but someone should look at it.

Interval data is in NEM market time (AEST all year, no daylight saving), so every day has
1440 minutes: 48 intervals at 30 minutes, 96 at 15, 288 at 5, whatever the local clocks do.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any, Literal

import numpy as np

from shared.readings.model import IntervalDay, RegisterRead

Severity = Literal["reject", "flag"]
DayType = Literal["weekday", "saturday", "sunday"]

MINUTES_PER_DAY = 1440
REAL_READS = ("actual", "customer")  # read types that are a reading of the dial, not a guess


@dataclass(frozen=True)
class Finding:
    """Why a value was rejected or flagged. Intervals are 1-based and inclusive, as in NEM12."""

    rule: str
    severity: Severity
    service_point_id: str
    register_id: str
    message: str
    day: date | None = None  # the market day, for interval data
    first_interval: int | None = None
    last_interval: int | None = None
    read_at: datetime | None = None  # for register reads

    @property
    def key(self) -> str:
        """What the finding is about, stable across runs: the same problem found again is
        the same finding, not a new one."""
        where = self.day.isoformat() if self.day else ""
        if self.read_at is not None:
            where = self.read_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        if self.first_interval is not None:
            where += f":{self.first_interval}-{self.last_interval}"
        return f"{self.rule}:{self.register_id}:{where}"

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "servicePointId": self.service_point_id,
            "registerId": self.register_id,
            "day": self.day.isoformat() if self.day else None,
            "firstInterval": self.first_interval,
            "lastInterval": self.last_interval,
            "readAt": self.read_at.astimezone(UTC).isoformat() if self.read_at else None,
            "message": self.message,
        }


@dataclass(frozen=True, eq=False)  # eq=False: numpy arrays have no single truth value
class ChannelDay:
    """One channel's values for one market day, as validation and estimation see them.

    Unlike ``IntervalDay`` the count is not enforced here: checking it is a rule."""

    day: date
    interval_minutes: int
    values_wh: np.ndarray  # int64
    quality: str  # one letter per interval: A, E, S, F, N

    def __post_init__(self) -> None:
        values = np.array(self.values_wh, dtype=np.int64)
        values.setflags(write=False)
        object.__setattr__(self, "values_wh", values)

    @classmethod
    def of(cls, day: IntervalDay) -> ChannelDay:
        return cls(day.day, day.interval_minutes, day.values_wh, "".join(str(q) for q in day.quality))

    @property
    def expected_count(self) -> int:
        return MINUTES_PER_DAY // self.interval_minutes

    @property
    def is_complete(self) -> bool:
        return self.values_wh.size == self.expected_count == len(self.quality)

    @property
    def is_actual(self) -> bool:
        """Every interval an actual read: what like days and baselines may be built from."""
        return self.is_complete and set(self.quality) == {"A"}


@dataclass(frozen=True)
class ValidationRules:
    """The thresholds, per meter. Capacities and floors are in kW of average demand over an
    interval (or between two register reads), so one setting suits every interval length."""

    max_kw: Decimal | None = None  # the meter's capacity (e.g. 100 A x 240 V = 24 kW); None skips the check
    spike_factor: Decimal = Decimal(4)  # a value over this many times its baseline median is a spike...
    spike_floor_kw: Decimal = Decimal(1)  # ...and over this, so 40 Wh against a 5 Wh median is no spike
    spike_like_days: int = 4  # the baseline: this many most recent like days before the day
    spike_min_like_days: int = 2  # fewer than this and there is no baseline to judge against
    like_day_lookback_days: int = 28
    max_zero_run: timedelta = timedelta(hours=24)  # zeros lasting this long (or longer) are flagged
    rollover_max_fraction: Decimal = Decimal("0.5")  # a "rollover" using more of the dials is a misread


DEFAULT_RULES = ValidationRules()


def day_type(day: date, holidays: frozenset[date] = frozenset()) -> DayType:
    """AEMO's like-day classes: weekdays, Saturdays, and Sundays with public holidays."""
    if day in holidays or day.weekday() == 6:
        return "sunday"
    return "saturday" if day.weekday() == 5 else "weekday"


def like_days(
    day: date,
    history: Iterable[ChannelDay],
    *,
    holidays: frozenset[date] = frozenset(),
    lookback_days: int,
    interval_minutes: int,
) -> list[ChannelDay]:
    """Actual days of the same type before ``day`` within the look-back, most recent first."""
    wanted = day_type(day, holidays)
    earliest = day - timedelta(days=lookback_days)
    found = [
        h
        for h in history
        if earliest <= h.day < day
        and h.interval_minutes == interval_minutes
        and h.is_actual
        and day_type(h.day, holidays) == wanted
    ]
    return sorted(found, key=lambda h: h.day, reverse=True)


def kw_to_wh(kw: Decimal, minutes: Decimal | int) -> Decimal:
    """Energy at ``kw`` for ``minutes``: 15 kW for 30 minutes is 7,500 Wh."""
    return kw * 1000 * Decimal(minutes) / 60


# --- interval data --------------------------------------------------------------------------


def validate_interval_channel(
    *,
    service_point_id: str,
    register_id: str,
    days: Sequence[ChannelDay],
    period: tuple[date, date],
    history: Sequence[ChannelDay] = (),
    expected_minutes: int | None = None,
    billed_through: date | None = None,
    rules: ValidationRules = DEFAULT_RULES,
    holidays: frozenset[date] = frozenset(),
) -> list[Finding]:
    """Every interval check for one channel over the market days ``period`` = [first, end).

    ``days`` are the channel's days in the period in the order they arrived; ``history``
    the days before it (the baseline for spikes); ``expected_minutes`` the meter's interval
    length when known; ``billed_through`` the first day not yet billed."""
    where = _Where(service_point_id, register_id)
    findings: list[Finding] = []
    unique, repeated = _first_of_each_day(days, where)
    findings += repeated
    usable: list[ChannelDay] = []
    for day in sorted(unique, key=lambda d: d.day):
        count_problem = _count_finding(day, expected_minutes, where)
        if count_problem is not None:
            findings.append(count_problem)
            continue  # values that do not line up with the clock cannot be judged further
        usable.append(day)
        findings += _range_findings(day, rules, where)
        baseline = [*history, *usable]
        findings += _spike_findings(day, baseline, rules, holidays, where)
        if billed_through is not None and day.day < billed_through:
            findings.append(
                where.day(
                    "billed-period",
                    "flag",
                    day.day,
                    f"{day.day} is before billed-through {billed_through}: a change here needs a rebill",
                )
            )
    findings += _zero_run_findings(usable, rules, where)
    findings += _missing_day_findings({d.day for d in unique}, period, where)
    return findings


@dataclass(frozen=True)
class _Where:
    service_point_id: str
    register_id: str

    def day(
        self, rule: str, severity: Severity, day: date, message: str, first: int | None = None, last: int | None = None
    ) -> Finding:
        return Finding(rule, severity, self.service_point_id, self.register_id, message, day, first, last)

    def read(self, rule: str, severity: Severity, read: RegisterRead, message: str) -> Finding:
        return Finding(
            rule, severity, self.service_point_id, self.register_id, message, read_at=read.read_at.astimezone(UTC)
        )


def _first_of_each_day(days: Sequence[ChannelDay], where: _Where) -> tuple[list[ChannelDay], list[Finding]]:
    """The first delivery of each day; a repeat is a duplicate (flag) or, with other values,
    a conflicting delivery (reject: nobody can tell which is right without a version)."""
    first: dict[date, ChannelDay] = {}
    findings: list[Finding] = []
    for day in days:
        seen = first.get(day.day)
        if seen is None:
            first[day.day] = day
        elif np.array_equal(seen.values_wh, day.values_wh) and seen.quality == day.quality:
            findings.append(where.day("duplicate", "flag", day.day, f"{day.day} delivered twice with the same values"))
        else:
            findings.append(
                where.day(
                    "conflicting-duplicate",
                    "reject",
                    day.day,
                    f"{day.day} delivered twice with different values "
                    f"({int(seen.values_wh.sum())} Wh then {int(day.values_wh.sum())} Wh); the second is ignored",
                )
            )
    return list(first.values()), findings


def _count_finding(day: ChannelDay, expected_minutes: int | None, where: _Where) -> Finding | None:
    if day.interval_minutes not in (5, 15, 30):
        return where.day(
            "interval-count", "reject", day.day, f"{day.day}: interval length {day.interval_minutes} is not 5, 15 or 30"
        )
    if expected_minutes is not None and day.interval_minutes != expected_minutes:
        return where.day(
            "interval-count",
            "reject",
            day.day,
            f"{day.day}: {day.interval_minutes}-minute intervals from a {expected_minutes}-minute meter",
        )
    if day.values_wh.size != day.expected_count or len(day.quality) != day.values_wh.size:
        return where.day(
            "interval-count",
            "reject",
            day.day,
            f"{day.day}: {day.values_wh.size} values and {len(day.quality)} quality flags, expected "
            f"{day.expected_count} at {day.interval_minutes} minutes (market time has no daylight saving)",
        )
    return None


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Runs of True as (first, last) 0-based inclusive indexes."""
    padded = np.concatenate(([False], mask, [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _range_findings(day: ChannelDay, rules: ValidationRules, where: _Where) -> list[Finding]:
    values = day.values_wh
    findings = []
    for first, last in _runs(values < 0):
        worst = int(values[first : last + 1].min())
        findings.append(
            where.day(
                "negative-value",
                "reject",
                day.day,
                f"{day.day} intervals {first + 1}-{last + 1}: negative energy (lowest {worst} Wh)",
                first + 1,
                last + 1,
            )
        )
    if rules.max_kw is not None:
        limit = kw_to_wh(rules.max_kw, day.interval_minutes)
        for first, last in _runs(values > _whole(limit)):
            findings.append(
                where.day(
                    "over-capacity",
                    "reject",
                    day.day,
                    f"{day.day} intervals {first + 1}-{last + 1}: up to {int(values[first : last + 1].max())} Wh "
                    f"in {day.interval_minutes} minutes, over the meter's {rules.max_kw} kW "
                    f"({_plain(limit)} Wh per interval)",
                    first + 1,
                    last + 1,
                )
            )
    return findings


def _spike_findings(
    day: ChannelDay, history: Sequence[ChannelDay], rules: ValidationRules, holidays: frozenset[date], where: _Where
) -> list[Finding]:
    """Each interval against the median of the same interval on the most recent like days."""
    baseline = like_days(
        day.day,
        history,
        holidays=holidays,
        lookback_days=rules.like_day_lookback_days,
        interval_minutes=day.interval_minutes,
    )[: rules.spike_like_days]
    if len(baseline) < rules.spike_min_like_days:
        return []
    # Twice the median keeps it an integer: the mean of the two middle values has a half.
    stacked = np.sort(np.stack([b.values_wh for b in baseline]), axis=0)
    n = len(baseline)
    median_x2 = stacked[(n - 1) // 2] + stacked[n // 2]
    floor = kw_to_wh(rules.spike_floor_kw, day.interval_minutes)
    # value > factor x median_x2 / 2, in integers: factor = p / q, so 2 q value > p median_x2.
    p, q = rules.spike_factor.as_integer_ratio()
    spikes = (day.values_wh * (2 * q) > median_x2 * p) & (day.values_wh > _whole(floor))
    findings = []
    for index in np.flatnonzero(spikes):
        median = Decimal(int(median_x2[index])) / 2
        findings.append(
            where.day(
                "spike",
                "flag",
                day.day,
                f"{day.day} interval {index + 1}: {int(day.values_wh[index])} Wh is over {rules.spike_factor} x the "
                f"median {_plain(median)} Wh of the same interval on {n} previous {day_type(day.day, holidays)}s",
                int(index) + 1,
                int(index) + 1,
            )
        )
    return findings


def _zero_run_findings(days: Sequence[ChannelDay], rules: ValidationRules, where: _Where) -> list[Finding]:
    """Zeros lasting ``max_zero_run`` or longer, also across midnight between consecutive days."""
    findings: list[Finding] = []
    for block in _consecutive(days):
        minutes = block[0].interval_minutes
        if any(d.interval_minutes != minutes for d in block):
            continue  # a meter reconfigured mid-run; each length is checked on its own days next run
        values = np.concatenate([d.values_wh for d in block])
        per_day = block[0].expected_count
        needed = -(-int(rules.max_zero_run.total_seconds()) // (minutes * 60))  # whole intervals, rounded up
        for first, last in _runs(values == 0):
            length = last - first + 1
            if length < needed:
                continue
            start_day, start_interval = block[first // per_day].day, first % per_day + 1
            end_day, end_interval = block[last // per_day].day, last % per_day + 1
            hours = Decimal(length * minutes) / 60
            findings.append(
                where.day(
                    "zero-run",
                    "flag",
                    start_day,
                    f"zero energy for {_plain(hours)} hours ({length} intervals) from {start_day} interval "
                    f"{start_interval} to {end_day} interval {end_interval}",
                    start_interval,
                    start_interval,
                )
            )
    return findings


def _consecutive(days: Sequence[ChannelDay]) -> list[list[ChannelDay]]:
    blocks: list[list[ChannelDay]] = []
    for day in sorted(days, key=lambda d: d.day):
        if blocks and blocks[-1][-1].day + timedelta(days=1) == day.day:
            blocks[-1].append(day)
        else:
            blocks.append([day])
    return blocks


def missing_days(present: Iterable[date], period: tuple[date, date]) -> list[date]:
    """The days of [first, end) with no data."""
    have = set(present)
    first, end = period
    return [first + timedelta(days=n) for n in range((end - first).days) if first + timedelta(days=n) not in have]


def _missing_day_findings(present: set[date], period: tuple[date, date], where: _Where) -> list[Finding]:
    return [
        where.day("missing-day", "flag", day, f"{day}: no interval data for the day (to be estimated)")
        for day in missing_days(present, period)
    ]


# --- register reads -------------------------------------------------------------------------


def register_advance(
    previous: Decimal, current: Decimal, *, dial_count: int | None, max_fraction: Decimal = Decimal("0.5")
) -> Decimal | None:
    """Units used between two reads of a register, or None when the register went backwards.

    A read below the previous one is a rollover when the register has ``dial_count`` dials
    and the advance it implies stays under ``max_fraction`` of the dials' range: 99,990 ->
    00,015 on five dials is 25 units; 50,000 -> 10,000 would be 60,000 units, a misread."""
    if current >= previous:
        return current - previous
    if dial_count is None:
        return None
    span = Decimal(10) ** dial_count
    advance = current + span - previous
    return advance if advance < span * max_fraction else None


def validate_register_reads(
    *,
    service_point_id: str,
    reads: Sequence[RegisterRead],
    known: Sequence[RegisterRead] = (),
    dial_count: int | None = None,
    multiplier: Decimal = Decimal(1),
    last_billed_at: datetime | None = None,
    rules: ValidationRules = DEFAULT_RULES,
) -> list[Finding]:
    """Checks for register reads ``reads`` (in the order they arrived) of one meter, against
    the reads ``known`` before them. Register values are in kWh (times ``multiplier``).

    Each new read is checked on its own (range, duplicates, order, billed period), then
    against its neighbours in time: backwards (rollover or error), impossible advance, spike,
    and long stretches without consumption."""
    findings: list[Finding] = []
    seen: dict[tuple[str, str, datetime], RegisterRead] = {_at(r): r for r in known}
    latest = max((r.read_at for r in known), default=None)
    accepted: list[RegisterRead] = []
    for read in reads:
        where = _Where(service_point_id, read.register_id)
        problem = _single_read_finding(read, dial_count, last_billed_at, seen, where)
        if problem is not None:
            findings.append(problem)
            if problem.severity == "reject" or problem.rule == "duplicate":
                continue
        if latest is not None and read.read_at < latest:
            findings.append(
                where.read(
                    "out-of-order",
                    "flag",
                    read,
                    f"read at {read.read_at.isoformat()} arrived after a read at {latest.isoformat()}",
                )
            )
        latest = max(latest, read.read_at) if latest else read.read_at
        seen[_at(read)] = read
        accepted.append(read)
    fresh = {id(r) for r in accepted}
    for _register, timeline in _by_register([*known, *accepted]).items():
        findings += _pair_findings(timeline, fresh, service_point_id, dial_count, multiplier, rules)
    return findings


def _at(read: RegisterRead) -> tuple[str, str, datetime]:
    return read.meter_serial, read.register_id, read.read_at.astimezone(UTC)


def _single_read_finding(
    read: RegisterRead,
    dial_count: int | None,
    last_billed_at: datetime | None,
    seen: dict[tuple[str, str, datetime], RegisterRead],
    where: _Where,
) -> Finding | None:
    if read.value < 0:
        return where.read("negative-value", "reject", read, f"read {read.value} is negative")
    if dial_count is not None and read.value >= Decimal(10) ** dial_count:
        return where.read(
            "out-of-range", "reject", read, f"read {read.value} does not fit the register's {dial_count} dials"
        )
    twin = seen.get(_at(read))
    if twin is not None:
        if twin.value == read.value:
            return where.read("duplicate", "flag", read, f"read {read.value} at {read.read_at.isoformat()} given twice")
        return where.read(
            "conflicting-duplicate",
            "reject",
            read,
            f"read {read.value} at {read.read_at.isoformat()} contradicts {twin.value} already read then",
        )
    if last_billed_at is not None and read.read_at < last_billed_at:
        return where.read(
            "before-last-billed",
            "reject",
            read,
            f"read at {read.read_at.isoformat()} is before the last billed read at {last_billed_at.isoformat()}; "
            "a correction to a billed period goes through a rebill",
        )
    return None


def _by_register(reads: Iterable[RegisterRead]) -> dict[tuple[str, str], list[RegisterRead]]:
    grouped: dict[tuple[str, str], list[RegisterRead]] = {}
    for read in reads:
        grouped.setdefault((read.meter_serial, read.register_id), []).append(read)
    return {key: sorted(group, key=lambda r: r.read_at) for key, group in grouped.items()}


def _pair_findings(
    timeline: list[RegisterRead],
    fresh: set[int],
    service_point_id: str,
    dial_count: int | None,
    multiplier: Decimal,
    rules: ValidationRules,
) -> list[Finding]:
    """Each read against the last good read before it, reported on the new read of the pair
    (the later one when both are new): a known read is not re-judged by a newcomer, and a
    rejected read is not what the next read is measured from."""
    findings: list[Finding] = []
    daily_history: list[Decimal] = []  # kWh per day of each earlier pair, for the spike baseline
    if not timeline:
        return findings
    anchor = timeline[0]
    for after in timeline[1:]:
        before = anchor
        about = after if id(after) in fresh else before
        where = _Where(service_point_id, about.register_id)
        involved = id(before) in fresh or id(after) in fresh
        # Whichever read is rejected, the other one is what the next read is measured from.
        anchor = before if involved and about is after else after
        advance = register_advance(
            before.value, after.value, dial_count=dial_count, max_fraction=rules.rollover_max_fraction
        )
        hours = Decimal((after.read_at - before.read_at) // timedelta(seconds=1)) / 3600
        if advance is None:
            if involved:
                dials = f"{dial_count} dials" if dial_count else "an unknown number of dials"
                findings.append(
                    where.read(
                        "register-backwards",
                        "reject",
                        about,
                        f"read {after.value} at {after.read_at.isoformat()} is below the previous read "
                        f"{before.value} at {before.read_at.isoformat()} and is no plausible rollover on {dials}",
                    )
                )
            continue
        kwh = advance * multiplier
        if involved and rules.max_kw is not None and hours > 0 and kwh > rules.max_kw * hours:
            findings.append(
                where.read(
                    "over-capacity",
                    "reject",
                    about,
                    f"{kwh} kWh in {_plain(hours)} hours is over the meter's {rules.max_kw} kW "
                    f"({_plain(rules.max_kw * hours)} kWh at most)",
                )
            )
            continue
        anchor = after
        if involved and after.value < before.value:
            findings.append(
                where.read(
                    "rollover",
                    "flag",
                    about,
                    f"register rolled over: {before.value} -> {after.value} on {dial_count} dials is {advance} units",
                )
            )
        if involved and kwh == 0 and hours * 3600 >= Decimal(int(rules.max_zero_run.total_seconds())):
            findings.append(
                where.read("zero-run", "flag", about, f"no consumption in {_plain(hours)} hours ({before.value} twice)")
            )
        if hours > 0:
            per_day = kwh * 24 / hours
            if involved:
                findings += _register_spike(about, per_day, daily_history, rules, where)
            daily_history.append(per_day)
    return findings


def _register_spike(
    read: RegisterRead, per_day: Decimal, earlier: list[Decimal], rules: ValidationRules, where: _Where
) -> list[Finding]:
    baseline = earlier[-rules.spike_like_days :]
    if len(baseline) < rules.spike_min_like_days:
        return []
    ordered = sorted(baseline)
    median = (ordered[(len(ordered) - 1) // 2] + ordered[len(ordered) // 2]) / 2
    floor = rules.spike_floor_kw * 24
    if per_day > rules.spike_factor * median and per_day > floor:
        return [
            where.read(
                "spike",
                "flag",
                read,
                f"{_plain(per_day)} kWh a day is over {rules.spike_factor} x the median {_plain(median)} kWh a day "
                f"of the {len(baseline)} previous read periods",
            )
        ]
    return []


def _whole(limit: Decimal) -> int:
    """The largest integer not over ``limit``: an integer value exceeds ``limit`` exactly
    when it exceeds this, so numpy can compare without floats."""
    return int(limit.to_integral_value(ROUND_FLOOR))


def _plain(number: Decimal) -> str:
    """A number for a message: at most three decimals, no exponent, no trailing zeros."""
    text = f"{number.quantize(Decimal('0.001'), ROUND_HALF_UP):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
