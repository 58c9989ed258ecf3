"""Write a large, realistic, deterministic NEM12 file for the parser benchmark.

Every NMI has a consumption register (E1); some also export solar (B1) or record reactive
energy (Q1), as real residential and small-business sites do. One site in ten is a business
using twelve times a household's energy, so its values run past 10 kWh and their widths
vary within a day. Values are kWh with three decimals (the common MDP output); most days
are actual (A), some are estimated (E52) or substituted (S14 with a reason), and some are
variable (V) with 400 records giving each interval's quality; a few days carry a 500
record for a manual read. Lines end in CRLF, as most MDPs send them. With
``--single-register`` every NMI has its consumption register only (E1), the shape the
issue's own figures were measured on (2,000 NMIs x 31 days at 30 minutes: about 21 MB);
everything else (business sites, the quality mix, 400s, 500s) is as above.

The same arguments always give the same bytes (a seeded generator), so figures measured on
different days are comparable. Each day's values are drawn from a pool of pre-formatted
daily profiles, which keeps generating a 1 GB file to about a minute.

    python -m benchmarks.nem12_generate --nmis 2000 --days 31 --minutes 30 OUT.csv
    python -m benchmarks.nem12_generate --size-mb 1000 --days 31 --minutes 5 OUT.csv
    python -m benchmarks.nem12_generate --nmis 2000 --days 31 --minutes 30 --single-register OUT.csv
"""

from __future__ import annotations

import argparse
import math
import random
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

CRLF = "\r\n"
PROFILES = 997  # distinct daily rows per channel kind and interval length (a prime, so no short cycle)
FIRST_DAY = date(2024, 1, 1)


def _profiles(rng: random.Random, kind: str, minutes: int, *, size: float = 1.0) -> list[str]:
    """Daily value rows for one kind of channel, kWh with three decimals."""
    count = 1440 // minutes
    rows = []
    for _ in range(PROFILES):
        scale = rng.uniform(0.3, 2.5) * minutes / 30 * size
        values = []
        for i in range(count):
            hour = (i + 0.5) * minutes / 60
            if kind == "E1":  # a household: a base load, a morning and an evening peak
                shape = 0.15 + 0.35 * math.exp(-((hour - 7.5) ** 2) / 2) + 0.6 * math.exp(-((hour - 19) ** 2) / 4)
            elif kind == "B1":  # rooftop solar export: nothing at night
                shape = max(0.0, math.sin(math.pi * (hour - 6.5) / 12.5)) * 1.2 if 6.5 < hour < 19 else 0.0
            else:  # Q1 reactive energy
                shape = 0.05 + 0.1 * math.exp(-((hour - 14) ** 2) / 18)
            value = shape * scale * rng.uniform(0.7, 1.3)
            values.append(f"{value:.3f}")
        rows.append(",".join(values))
    return rows


def _configuration(rng: random.Random) -> str:
    draw = rng.random()
    if draw < 0.35:
        return "E1B1"
    if draw < 0.50:
        return "E1Q1"
    if draw < 0.60:
        return "E1B1Q1"
    return "E1"


def _day_records(rng: random.Random, day: date, row: str, count: int, updated: str, loaded: str) -> Iterator[str]:
    stamp = day.strftime("%Y%m%d")
    draw = rng.random()
    if draw < 0.04:  # variable: a communications outage substituted, the rest actual
        start = rng.randint(1, count - count // 8)
        end = start + rng.randint(1, count // 8) - 1
        yield f"300,{stamp},{row},V,,,{updated},{loaded}"
        if start > 1:
            yield f"400,1,{start - 1},A,,"
        yield f"400,{start},{end},S14,76,"
        if end < count:
            yield f"400,{end + 1},{count},A,,"
    elif draw < 0.07:
        yield f"300,{stamp},{row},E52,,,{updated},{loaded}"
    elif draw < 0.08:
        yield f"300,{stamp},{row},S14,45,,{updated},{loaded}"
    else:
        yield f"300,{stamp},{row},A,,,{updated},{loaded}"
    if rng.random() < 0.01:
        yield f"500,O,SO{rng.randint(100000, 999999)},{stamp}120000,{rng.randint(0, 999999):06d}"


def nem12_records(
    *, nmis: int | None, days: int, minutes: int, seed: int = 12, single_register: bool = False
) -> Iterator[str]:
    """The file's records (without line endings); endless NMIs when ``nmis`` is None."""
    rng = random.Random(seed)
    pools = {kind: _profiles(rng, kind, minutes) for kind in ("E1", "B1", "Q1")}
    business = {kind: _profiles(rng, kind, minutes, size=12) for kind in ("E1", "B1", "Q1")}
    count = 1440 // minutes
    yield "100,NEM12,202402010300,MDPBENCH,RETAILER1"
    number = 0
    while nmis is None or number < nmis:
        nmi = f"41{number:08d}"
        configuration = _configuration(rng)  # drawn either way: the same draws follow
        if single_register:
            configuration = "E1"
        serial = f"M{rng.randint(1000000, 9999999)}"
        for suffix in (configuration[i : i + 2] for i in range(0, len(configuration), 2)):
            uom = "KVARH" if suffix == "Q1" else "KWH"
            yield f"200,{nmi},{configuration},{suffix},{suffix},N{suffix[1]},{serial},{uom},{minutes},20240301"
            pool = (business if number % 10 == 9 else pools)[suffix]
            for offset in range(days):
                day = FIRST_DAY + timedelta(days=offset)
                next_day = day + timedelta(days=1)
                updated = next_day.strftime("%Y%m%d") + f"{rng.randint(1, 5):02d}{rng.randint(0, 59):02d}00"
                loaded = next_day.strftime("%Y%m%d") + "083000"
                yield from _day_records(rng, day, pool[rng.randrange(PROFILES)], count, updated, loaded)
        number += 1


def write_nem12(
    path: Path,
    *,
    nmis: int | None,
    days: int,
    minutes: int,
    size_mb: float | None = None,
    single_register: bool = False,
) -> int:
    """Write the file; with ``size_mb``, whole NMIs are added until it is at least that big.
    Returns the number of interval values written."""
    limit = None if size_mb is None else int(size_mb * 1_000_000)
    values = written = 0
    count = 1440 // minutes
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="ascii", newline="") as out:
        nmi_count = None if limit else nmis
        for record in nem12_records(nmis=nmi_count, days=days, minutes=minutes, single_register=single_register):
            if limit is not None and record.startswith("200,") and written >= limit:
                break
            line = record + CRLF
            out.write(line)
            written += len(line)
            values += count if record.startswith("300,") else 0
        out.write("900" + CRLF)
    return values


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--nmis", type=int, default=2000)
    parser.add_argument("--days", type=int, default=31)
    parser.add_argument("--minutes", type=int, choices=(5, 15, 30), default=30)
    parser.add_argument("--size-mb", type=float, help="add NMIs until the file is this big (ignores --nmis)")
    parser.add_argument("--single-register", action="store_true", help="E1 only on every NMI")
    args = parser.parse_args(argv)
    values = write_nem12(
        args.out,
        nmis=args.nmis,
        days=args.days,
        minutes=args.minutes,
        size_mb=args.size_mb,
        single_register=args.single_register,
    )
    print(f"{args.out}: {args.out.stat().st_size / 1e6:.1f} MB, {values} interval values")


if __name__ == "__main__":
    main()
