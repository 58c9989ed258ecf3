"""How fast a month of half-hourly usage is rated: rate() per meter, rate_batch, and NREL's SAM, in one run.

The tariff is an Australian residential one: time of use (peak weekdays 15:00-21:00, shoulder,
off-peak), an inclining block levy on the same energy with daily thresholds, a peak-window
demand charge per kW a month, a daily supply charge, 10 % GST per line, NSW public holidays
rated as weekends. The usage is household-like (benchmarks/household_usage.py), one month at
30 minutes in Australia/Sydney: July 2026 (1,488 intervals) and October 2026 (DST starts on
Sunday 4 October: 1,486 intervals; Monday 5 October is Labour Day).

For each month:
- rate_batch over all meters, generated and rated a chunk at a time (the way a bill run reads
  meters); each chunk rated ``--repeat`` times and its fastest run counted. Then each meter's
  RatedCharges built from the columns, one at a time and dropped, timed separately;
- rate() one meter at a time on the first ``--sample`` meters, each checked equal to the batch;
- SAM Utilityrate5 on the first ``--sam-sample`` meters (benchmarks/sam_utilityrate.py says how
  the tariff and the month are put in SAM's terms), and its bill for the month compared with
  GridLedger's, the difference taken apart convention by convention:
    ours           the bill before GST, as GridLedger rates it;
    no holidays    the same tariff without public holidays (SAM has none);
    SAM's clock    also read in fixed UTC+10 (SAM has no DST), on exactly the series SAM got;
    SAM            SAM's float bill: what is left against "SAM's clock" is line rounding;
  and SAM once more fed hourly means of the same usage (as it usually is), timed and compared.

Rates per core come from CPU time (``time.process_time``); wall time is printed beside it,
because the machine is shared. Run it on one core with one BLAS thread:

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 taskset -c 0 \\
        .venv/bin/python -m benchmarks.rating_throughput --meters 50000

Needs ``nrel-pysam==7.1.1.post1`` in the virtualenv (a benchmark-only dependency).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import tracemalloc
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from time import perf_counter, process_time
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from benchmarks.household_usage import household_usage, period_grid
from benchmarks.sam_utilityrate import SamBill, SamRater, SamTariff, check_sam_calendar, sam_month_for
from shared.rating import IntervalConsumption, RatedCharges, Tariff, rate
from shared.rating.batch import rate_batch

ZONE = "Australia/Sydney"
SAM_CLOCK = "Etc/GMT-10"  # UTC+10 all year: Sydney's standard time, SAM's clock
MINUTES = 30
MONTHS = {"july": (date(2026, 7, 1), date(2026, 8, 1)), "october": (date(2026, 10, 1), date(2026, 11, 1))}

PEAK, SHOULDER, OFFPEAK = Decimal("0.4950"), Decimal("0.2970"), Decimal("0.1650")
LEVY = (Decimal("0.0210"), Decimal("0.0335"), Decimal("0.0480"))
LEVY_DAILY_KWH = (Decimal(10), Decimal(20))
DEMAND, SUPPLY = Decimal("8.5000"), Decimal("1.0500")
WEEKDAY_HOURS = {"peak": [[15, 21]], "shoulder": [[7, 15], [21, 22]], "offpeak": [[0, 7], [22, 24]]}
WEEKEND_HOURS = {"peak": [], "shoulder": [[7, 22]], "offpeak": [[0, 7], [22, 24]]}
ENERGY_COMPONENTS = ("peak", "shoulder", "offpeak", "levy-1", "levy-2", "levy-3")


def tariff_document(*, public_holidays: bool = True) -> dict[str, Any]:
    def period(id_: str, description: str, rate_: Decimal) -> dict[str, Any]:
        weekdays, weekends = WEEKDAY_HOURS[id_], WEEKEND_HOURS[id_]
        return {"id": id_, "description": description, "rate": str(rate_), "weekdays": weekdays, "weekends": weekends}

    levy_blocks = [
        {"id": "levy-1", "description": "Levy, first 10 kWh a day", "rate": str(LEVY[0]), "upTo": "10"},
        {"id": "levy-2", "description": "Levy, next 10 kWh a day", "rate": str(LEVY[1]), "upTo": "20"},
        {"id": "levy-3", "description": "Levy, above 20 kWh a day", "rate": str(LEVY[2])},
    ]
    document: dict[str, Any] = {
        "id": "res-tou-demand",
        "version": "2026-07-01",
        "name": "Residential time of use with demand",
        "currency": "AUD",
        "effectiveFrom": "2026-07-01",
        "components": [
            {
                "id": "supply",
                "kind": "daily_supply",
                "description": "Daily supply",
                "rate": str(SUPPLY),
                "taxCode": "GST",
            },
            {
                "id": "tou",
                "kind": "time_of_use",
                "taxCode": "GST",
                "periods": [
                    period("peak", "Peak energy", PEAK),
                    period("shoulder", "Shoulder energy", SHOULDER),
                    period("offpeak", "Off-peak energy", OFFPEAK),
                ],
            },
            {
                "id": "levy",
                "kind": "block_energy",
                "description": "Network levy",
                "thresholdsPer": "day",
                "taxCode": "GST",
                "blocks": levy_blocks,
            },
            {
                "id": "demand",
                "kind": "demand_charge",
                "description": "Peak demand",
                "rate": str(DEMAND),
                "unit": "kW",
                "taxCode": "GST",
                "window": {"weekdays": WEEKDAY_HOURS["peak"], "weekends": []},
            },
        ],
        "taxes": {"GST": "0.10"},
        "taxRounding": "per_line",
    }
    if public_holidays:
        document["publicHolidays"] = {"region": "AU-NSW", "rateAs": "weekends"}
    return document


def sam_tariff() -> SamTariff:
    def hours(table: dict[str, list[list[int]]]) -> list[int]:
        number = {"peak": 1, "shoulder": 2, "offpeak": 3}
        periods = [0] * 24
        for name, ranges in table.items():
            for start, end in ranges:
                periods[start:end] = [number[name]] * (end - start)
        return periods

    return SamTariff(
        tou_rates=(PEAK, SHOULDER, OFFPEAK),
        weekday_periods=hours(WEEKDAY_HOURS),
        weekend_periods=hours(WEEKEND_HOURS),
        block_rates=LEVY,
        block_daily_kwh=LEVY_DAILY_KWH,
        demand_rate=DEMAND,
        window_weekdays=(15, 21),
        daily_supply=SUPPLY,
    )


# -- timing ------------------------------------------------------------------------------------------


@dataclass
class Clock:
    cpu: float = 0.0
    wall: float = 0.0

    def time(self, work: Any, *args: Any, **kwargs: Any) -> Any:
        cpu, wall = process_time(), perf_counter()
        result = work(*args, **kwargs)
        self.cpu += process_time() - cpu
        self.wall += perf_counter() - wall
        return result


@dataclass
class Comparison:
    ours: list[Decimal] = field(default_factory=list)  # before GST, cents exact
    ours_total: list[Decimal] = field(default_factory=list)  # with GST
    no_holidays: list[Decimal] = field(default_factory=list)
    sam_clock: list[Decimal] = field(default_factory=list)
    sam: list[float] = field(default_factory=list)
    parts: list[dict[str, tuple[float, float, float]]] = field(default_factory=list)  # ours, SAM's clock, SAM
    half_hourly: list[SamBill] = field(default_factory=list)
    hourly: list[SamBill] = field(default_factory=list)  # SAM fed hourly means of the same usage


def rate_one(tariff: Tariff, start: date, end: date, zone: str, wh: np.ndarray) -> RatedCharges:
    first = datetime.combine(start, time.min, tzinfo=ZoneInfo(zone))
    return rate(
        tariff=tariff,
        period_start=start,
        period_end=end,
        time_zone=zone,
        consumption=IntervalConsumption(first, MINUTES, wh),
    )


def build_each(rated: Sequence[RatedCharges]) -> None:
    """Every meter's RatedCharges, one at a time and not kept, as a bill run hands each to invoicing."""
    for index in range(len(rated)):
        rated[index]


def by_part(charges: RatedCharges) -> dict[str, Decimal]:
    parts = {"energy": Decimal(0), "demand": Decimal(0), "fixed": Decimal(0)}
    for line in charges.lines:
        kind = "energy" if line.component_id in ENERGY_COMPONENTS else "fixed" if line.unit == "day" else "demand"
        parts[kind] += line.amount.amount
    return parts


def run_month(name: str, args: argparse.Namespace) -> dict[str, Any]:
    start, end = MONTHS[name]
    zone = ZoneInfo(ZONE)
    _, hours, weekend = period_grid(start, end, zone, MINUTES)
    count = len(hours)
    tariff = Tariff.from_document(tariff_document())
    print(f"\n## {name.capitalize()} {start.year}: {count} intervals of {MINUTES} minutes, {args.meters:,} meters")

    def batch(wh: np.ndarray) -> Any:
        return rate_batch(tariff, period_start=start, period_end=end, time_zone=ZONE, wh=wh, interval_minutes=MINUTES)

    batch_clock, build_clock, generate_clock = Clock(), Clock(), Clock()
    totals: list[np.ndarray] = []
    sample_wh: np.ndarray | None = None
    sample_batch: list[RatedCharges] = []
    for first in range(0, args.meters, args.chunk):
        size = min(args.chunk, args.meters - first)
        wh = generate_clock.time(household_usage, size, hours, weekend, MINUTES, seed=args.seed, first_meter=first)
        runs = []
        for _ in range(args.repeat):
            clock = Clock()
            rated = clock.time(batch, wh)
            runs.append(clock)
        fastest = min(runs, key=lambda c: c.cpu)
        batch_clock.cpu += fastest.cpu
        batch_clock.wall += fastest.wall
        build_clock.time(build_each, rated)
        totals.append(rated.totals)
        if sample_wh is None:
            kept = max(args.sample, args.sam_sample)
            sample_wh, sample_batch = wh[:kept].copy(), list(rated[:kept])
    assert sample_wh is not None

    tracemalloc.start()  # the last chunk again, its usage matrix already allocated: what rating adds
    batch(wh)
    peak_bytes = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    chunk_meters, chunk_bytes = len(wh), wh.nbytes

    per_meter_clock, agree = Clock(), 0
    for index in range(min(args.sample, args.meters)):
        one = per_meter_clock.time(rate_one, tariff, start, end, ZONE, sample_wh[index])
        agree += one == sample_batch[index] and one.to_json() == sample_batch[index].to_json()
    sampled = min(args.sample, args.meters)

    sam_clock, hourly_clock, comparison = Clock(), Clock(), Comparison()
    sam_month = sam_month_for(start)
    rater = SamRater(sam_tariff(), (end - start).days, 60 // MINUTES)
    hourly = SamRater(sam_tariff(), (end - start).days, 1)  # how SAM is mostly fed: 8,760 hours
    month_steps = (end - start).days * 24 * 60 // MINUTES  # SAM's month: no DST, so always whole days
    no_holidays = Tariff.from_document(tariff_document(public_holidays=False))
    sam_sampled = min(args.sam_sample, args.meters)
    for index in range(sam_sampled):
        row = sample_wh[index]
        padded = np.zeros(month_steps, dtype=np.int64)
        padded[: len(row)] = row  # a spring-forward month leaves SAM's last steps empty
        kw = padded * (60 / MINUTES) / 1000
        bill: SamBill = sam_clock.time(lambda kw=kw: rater.bill(rater.year_of(kw, sam_month), sam_month))
        kw_hourly = padded.reshape(-1, 60 // MINUTES).sum(axis=1) / 1000  # kWh in an hour = its mean kW
        by_hour: SamBill = hourly_clock.time(lambda kw=kw_hourly: hourly.bill(hourly.year_of(kw, sam_month), sam_month))
        if index == 0:
            check_sam_calendar(rater)
            check_sam_calendar(hourly)
        ours = sample_batch[index]
        comparison.ours.append(ours.subtotal.amount)
        comparison.ours_total.append(ours.total.amount)
        comparison.no_holidays.append(rate_one(no_holidays, start, end, ZONE, row).subtotal.amount)
        sam_clocked = rate_one(no_holidays, start, end, SAM_CLOCK, padded)
        comparison.sam_clock.append(sam_clocked.subtotal.amount)
        comparison.sam.append(bill.total)
        comparison.hourly.append(by_hour)
        comparison.half_hourly.append(bill)
        mine, clocked = by_part(ours), by_part(sam_clocked)
        sams = {"energy": bill.energy, "demand": bill.demand, "fixed": bill.fixed}
        comparison.parts.append({k: (float(mine[k]), float(clocked[k]), sams[k]) for k in sams})

    all_totals = np.concatenate(totals)
    result = {
        "month": name,
        "intervals": count,
        "meters": args.meters,
        "batch_cpu": batch_clock.cpu,
        "batch_wall": batch_clock.wall,
        "build_cpu": build_clock.cpu,
        "generate_cpu": generate_clock.cpu,
        "per_meter_cpu": per_meter_clock.cpu / sampled,
        "per_meter_wall": per_meter_clock.wall / sampled,
        "agree": (agree, sampled),
        "sam_cpu": sam_clock.cpu / sam_sampled,
        "sam_wall": sam_clock.wall / sam_sampled,
        "sam_hourly_cpu": hourly_clock.cpu / sam_sampled,
        "sam_hourly_wall": hourly_clock.wall / sam_sampled,
        "peak_mb": peak_bytes / 2**20,
        "chunk_mb": chunk_bytes / 2**20,
        "chunk_meters": chunk_meters,
        "mean_bill": int(all_totals.mean()) / 100,
        "sum_bills": int(all_totals.sum()),
    }
    report_month(result, comparison, args)
    return result


# -- reporting --------------------------------------------------------------------------------------


def report_month(r: dict[str, Any], c: Comparison, args: argparse.Namespace) -> None:
    meters = r["meters"]
    batch_rate = meters / r["batch_cpu"]
    built_rate = meters / (r["batch_cpu"] + r["build_cpu"])
    per_meter_rate = 1 / r["per_meter_cpu"]
    sam_rate = 1 / r["sam_cpu"]
    print(
        f"usage generated in {r['generate_cpu']:.1f} s CPU (not counted); mean bill AUD {r['mean_bill']:.2f} with GST"
    )
    print()
    print("| path | CPU per meter-month | meter-months/s per core (CPU) | wall per meter-month | vs SAM |")
    print("| --- | ---: | ---: | ---: | ---: |")
    rows = [
        ("`rate()`, one meter at a time", r["per_meter_cpu"], r["per_meter_wall"], per_meter_rate),
        (
            "`rate_batch`: integer columns, every amount and total exact",
            r["batch_cpu"] / meters,
            r["batch_wall"] / meters,
            batch_rate,
        ),
        (
            "`rate_batch` + each meter's `RatedCharges` built (one at a time, not kept)",
            (r["batch_cpu"] + r["build_cpu"]) / meters,
            None,
            built_rate,
        ),
        (
            "SAM `Utilityrate5` (a year of 30-min steps per call, one month compared)",
            r["sam_cpu"],
            r["sam_wall"],
            sam_rate,
        ),
        (
            "SAM `Utilityrate5` fed hourly (8,760 steps per call)",
            r["sam_hourly_cpu"],
            r["sam_hourly_wall"],
            1 / r["sam_hourly_cpu"],
        ),
    ]
    for label, cpu, wall, per_second in rows:
        wall_text = f"{wall * 1e6:,.0f} µs" if wall is not None else "-"
        print(f"| {label} | {cpu * 1e6:,.1f} µs | {per_second:,.0f} | {wall_text} | x{per_second / sam_rate:,.1f} |")
    print()
    print(
        f"SAM rates a whole year per call: credited with 12 meter-months a call it does {12 * sam_rate:,.0f} "
        f"meter-months/s, and rate_batch is x{batch_rate / (12 * sam_rate):,.1f} that."
    )
    agree, sampled = r["agree"]
    print(f"rate() and the batch agree exactly (lines, taxes, totals, JSON) on {agree} of {sampled} sampled meters.")
    print(
        f"Memory: rate_batch allocates at most {r['peak_mb']:.1f} MiB (tracemalloc peak) for a chunk of "
        f"{r['chunk_meters']:,} meters, beside the chunk's own usage matrix of {r['chunk_mb']:.1f} MiB."
    )
    report_comparison(c, args)


def cents(value: float | Decimal) -> str:
    return f"{float(value):+.2f}"


def report_comparison(c: Comparison, args: argparse.Namespace) -> None:
    n = len(c.sam)
    print()
    print(f"Monthly bills, AUD before GST (first {min(args.compare, n)} of {n} meters rated by SAM):")
    print()
    print(
        "| meter | ours (with GST) | ours | no holidays | SAM's clock | SAM | SAM - ours | holidays | DST | rounding |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for i in range(min(args.compare, n)):
        holidays = c.no_holidays[i] - c.ours[i]
        dst = c.sam_clock[i] - c.no_holidays[i]
        rounding = c.sam[i] - float(c.sam_clock[i])
        print(
            f"| {i} | {c.ours_total[i]} | {c.ours[i]} | {c.no_holidays[i]} | {c.sam_clock[i]} | {c.sam[i]:.4f} | "
            f"{cents(c.sam[i] - float(c.ours[i]))} | {cents(holidays)} | {cents(dst)} | {rounding:+.4f} |"
        )
    gaps = [abs(c.sam[i] - float(c.ours[i])) for i in range(n)]
    residual = [abs(c.sam[i] - float(c.sam_clock[i])) for i in range(n)]
    holidays = [float(c.no_holidays[i] - c.ours[i]) for i in range(n)]
    dst = [float(c.sam_clock[i] - c.no_holidays[i]) for i in range(n)]
    agree_cent = sum(gap < 0.005 for gap in gaps)
    print()
    print(
        f"Over {n} meters: SAM within half a cent of ours on {agree_cent}; "
        f"|SAM - ours| mean {statistics.mean(gaps):.4f}, max {max(gaps):.4f}."
    )
    print(
        f"  public holidays (no holidays - ours): mean {statistics.mean(holidays):+.4f}, "
        f"range {min(holidays):+.2f}..{max(holidays):+.2f}"
    )
    print(
        f"  DST (SAM's clock - no holidays): mean {statistics.mean(dst):+.4f}, range {min(dst):+.2f}..{max(dst):+.2f}"
    )
    print(
        f"  left against ours on SAM's clock: max {max(residual):.4f}, mean {statistics.mean(residual):.4f} "
        "(line rounding: SAM rounds nothing, ours rounds each line to the cent)"
    )
    energy = [h.energy - b.energy for h, b in zip(c.hourly, c.half_hourly, strict=True)]
    demand = [h.demand - b.demand for h, b in zip(c.hourly, c.half_hourly, strict=True)]
    peaks = [h.peak_kw - b.peak_kw for h, b in zip(c.hourly, c.half_hourly, strict=True)]
    print(
        f"  SAM fed hourly - SAM fed half-hourly: energy mean {statistics.mean(energy):+.4f} "
        f"(range {min(energy):+.4f}..{max(energy):+.4f}); demand charge mean {statistics.mean(demand):+.4f} "
        f"(range {min(demand):+.2f}..{max(demand):+.2f}); peak kW (any hour) mean {statistics.mean(peaks):+.3f}"
    )
    for part in ("energy", "demand", "fixed"):
        real = [p[part][2] - p[part][0] for p in c.parts]
        clocked = [p[part][2] - p[part][1] for p in c.parts]
        print(
            f"  {part}: SAM - ours mean {statistics.mean(real):+.4f} (range {min(real):+.4f}..{max(real):+.4f}); "
            f"SAM - ours on SAM's clock mean {statistics.mean(clocked):+.4f} "
            f"(range {min(clocked):+.4f}..{max(clocked):+.4f})"
        )


def machine() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import PySAM

    threads = {k: os.environ.get(k, "unset") for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    return (
        f"{os.cpu_count()} cores, {model}; this process on cores {sorted(os.sched_getaffinity(0))}; "
        f"Python {platform.python_version()}, numpy {np.__version__}, PySAM {PySAM.__version__}; "
        f"threads {threads}; load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meters", type=int, default=50_000)
    parser.add_argument("--chunk", type=int, default=10_000, help="meters generated and rated at a time")
    parser.add_argument("--repeat", type=int, default=3, help="runs of rate_batch per chunk; the fastest counts")
    parser.add_argument("--sample", type=int, default=1_000, help="meters rated one at a time by rate()")
    parser.add_argument("--sam-sample", type=int, default=200, help="meters rated by SAM")
    parser.add_argument("--compare", type=int, default=6, help="meters whose bills are printed")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--months", nargs="+", choices=sorted(MONTHS), default=["july", "october"])
    args = parser.parse_args(argv)
    try:
        import PySAM  # noqa: F401
    except ImportError:
        raise SystemExit("needs PySAM: .venv/bin/pip install nrel-pysam==7.1.1.post1") from None
    print(f"# Rating throughput\n\n{machine()}")
    for name in args.months:
        run_month(name, args)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\nProcess peak RSS {rss:,.0f} MiB; load average at the end {', '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )


if __name__ == "__main__":
    main()
