"""NEM12 parse + validate throughput and peak memory: GridLedger against nemreader (issue 4).

Generates the files it needs (``benchmarks/nem12_generate.py``; kept under
``benchmarks/data/``, never committed), then runs every parser on every file, each run in
a fresh Python process so that its peak memory (the kernel's high-water mark, VmHWM) is
its own, pinned to one CPU (``taskset -c 0``, when there is a ``taskset``). Rounds are
interleaved across parsers (GridLedger, nemreader, the csv loop, then the next round) so
that a busy moment on the machine hits them alike; the tables show each parser's median
round and the range, the ratios paired round by round (median and range, never the best),
and every run with the load average (``/proc/loadavg``) read just before it.

Parsers:

* ``gridledger-stream``: ``iter_nem12_file``, every check applied, days consumed batch by
  batch (the consumer sums each batch's values);
* ``gridledger-collect``: ``read_nem12_file``, the same plus every day kept in memory as an
  ``IntervalDay`` (what ``parse_nem12`` callers get);
* ``csv-loop``: a bare ``csv.reader`` loop that only converts the 300 records' numbers
  (no validation at all): the floor a plain Python parser starts from;
* ``nemreader``: ``nemreader.read_nem_file`` (PyPI), if installed.

nemreader is not a project dependency; install the version measured with
``.venv/bin/pip install nemreader==0.9.2``. It holds a whole file as Python objects, so it
runs on the 2,000-NMI files only, and the 1 GB file is read by GridLedger's stream and the
csv loop alone.

    .venv/bin/python -m benchmarks.nem12_throughput              # all files, 5 rounds
    .venv/bin/python -m benchmarks.nem12_throughput --no-big     # skip the 1 GB files
    .venv/bin/python -m benchmarks.nem12_throughput --only 30min_e1 --no-big   # one file

The 30-minute files are two: the realistic one (1.7 registers a NMI, 36 MB) and ``_e1``,
one register a NMI, 21 MB: the shape of the issue's own nemreader figures.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.nem12_generate import write_nem12

DATA = Path(__file__).parent / "data"
NEMREADER_PIN = "nemreader==0.9.2"


@dataclass(frozen=True)
class BenchFile:
    name: str
    minutes: int
    nmis: int | None
    size_mb: float | None
    nemreader: bool  # small enough for a parser that holds everything
    single_register: bool = False  # E1 only on every NMI: the shape of the issue's own figures

    def path(self, folder: Path) -> Path:
        return folder / f"{self.name}.csv"


FILES = [
    BenchFile("nem12_2000nmi_31d_30min", 30, 2000, None, nemreader=True),
    # The measurement: 2,000 NMIs x 31 days at 30 minutes, 21 MB (one register each).
    BenchFile("nem12_2000nmi_31d_30min_e1", 30, 2000, None, nemreader=True, single_register=True),
    BenchFile("nem12_2000nmi_31d_5min", 5, 2000, None, nemreader=True),
    BenchFile("nem12_1gb_31d_5min", 5, None, 1000, nemreader=False),
    BenchFile("nem12_1gb_31d_30min", 30, None, 1000, nemreader=False),  # 5x the channel-days
]
# The order within a round: ours, nemreader, the csv loop alternate.
PARSERS = ["gridledger-stream", "nemreader", "csv-loop", "gridledger-collect"]


# -- one run, in a child process --------------------------------------------------------------


def _gridledger_stream(path: Path) -> tuple[int, str]:
    from shared.readings.nem12 import ChannelDays, iter_nem12_file

    values = total = 0
    stream = iter_nem12_file(path)
    for event in stream:
        if isinstance(event, ChannelDays):
            values += event.values.size
            total += int(event.values.sum())  # a consumer looks at what it is given
    result = stream.result
    return values, f"{result.status}, {len(result.errors)} errors"


def _gridledger_collect(path: Path) -> tuple[int, str]:
    from shared.readings.nem12 import read_nem12_file

    result = read_nem12_file(path)
    return sum(day.values_wh.size for day in result.days), f"{result.status}, {len(result.errors)} errors"


def _csv_loop(path: Path) -> tuple[int, str]:
    import csv

    values = 0
    with path.open(newline="") as text:
        for row in csv.reader(text):
            if row and row[0] == "300":
                # The values sit between the date and the last five fields.
                numbers = [float(v) for v in row[2:-5]]
                values += len(numbers)
    return values, "not validated"


def _nemreader(path: Path) -> tuple[int, str]:
    from nemreader import read_nem_file

    data = read_nem_file(str(path))
    readings = sum(len(reads) for channels in data.readings.values() for reads in channels.values())
    return readings, "not validated"


RUNNERS: dict[str, Callable[[Path], tuple[int, str]]] = {
    "gridledger-stream": _gridledger_stream,
    "gridledger-collect": _gridledger_collect,
    "csv-loop": _csv_loop,
    "nemreader": _nemreader,
}


def _high_water_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


# What each parser imports, loaded before the clock starts: the runs time parsing only.
IMPORTS = {
    "gridledger-stream": "shared.readings.nem12",
    "gridledger-collect": "shared.readings.nem12",
    "csv-loop": "csv",
    "nemreader": "nemreader",
}


def child(parser: str, path: Path) -> None:
    """Run one parser on one file and print one JSON line (the parent's only input)."""
    importlib.import_module(IMPORTS[parser])
    before = _high_water_mb()  # the interpreter and the imports, before any parsing
    started_wall, started_cpu = time.perf_counter(), time.process_time()
    values, verdict = RUNNERS[parser](path)
    wall, cpu = time.perf_counter() - started_wall, time.process_time() - started_cpu
    measured = {"values": values, "verdict": verdict, "wall": wall, "cpu": cpu}
    print(json.dumps({**measured, "peak_mb": _high_water_mb(), "start_mb": before}))


# -- the parent -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    file: str
    size_mb: float
    parser: str
    values: int
    verdict: str
    wall: float  # seconds, parsing only (not the interpreter's start or the imports)
    cpu: float
    peak_mb: float  # the process's resident high-water mark, imports included
    start_mb: float  # the same before parsing: the interpreter and the imports
    round: int = 0
    load: str = ""  # /proc/loadavg's 1, 5 and 15-minute averages just before the run

    @property
    def mb_per_s(self) -> float:
        return self.size_mb / self.wall


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def _run_child(parser: str, file: str, path: Path, *, round_: int, cpu: str | None) -> Run:
    command = [sys.executable, "-m", "benchmarks.nem12_throughput", "--child", parser, str(path)]
    if cpu is not None and shutil.which("taskset"):
        command = ["taskset", "-c", cpu, *command]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    load = _load()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{parser} on {path.name} failed:\n{done.stderr}")
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    size_mb = path.stat().st_size / 1e6
    return Run(file=file, size_mb=size_mb, parser=parser, **measured, round=round_, load=load)


def _mean_run(runs: list[Run]) -> Run:
    """Several fresh runs of one parser in one round as one: their mean times, the highest peak.
    On this shared virtual machine the same 0.7 s parse takes 0.66 to 1.30 s of CPU from one run
    to the next; a mean over a few seconds sees the same swings a 26 s nemreader run does."""
    if len(runs) == 1:
        return runs[0]
    first = runs[0]
    return Run(
        file=first.file,
        size_mb=first.size_mb,
        parser=first.parser,
        values=first.values,
        verdict=first.verdict,
        wall=statistics.fmean(r.wall for r in runs),
        cpu=statistics.fmean(r.cpu for r in runs),
        peak_mb=max(r.peak_mb for r in runs),
        start_mb=max(r.start_mb for r in runs),
        round=first.round,
        load=first.load,
    )


def _has_nemreader() -> bool:
    try:
        import nemreader  # noqa: F401
    except ImportError:
        return False
    return True


def _machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, {platform.system()}"


def _ensure(file: BenchFile, folder: Path) -> Path:
    path = file.path(folder)
    if not path.exists():
        print(f"generating {path} ...", file=sys.stderr)
        write_nem12(
            path,
            nmis=file.nmis,
            days=31,
            minutes=file.minutes,
            size_mb=file.size_mb,
            single_register=file.single_register,
        )
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", nargs=2, metavar=("PARSER", "FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, default=DATA, help="where the generated files are kept")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each parser on each file (median shown)")
    parser.add_argument("--nemreader-rounds", type=int, default=5, help="nemreader is slow: fewer runs if need be")
    parser.add_argument("--big-rounds", type=int, default=1, help="rounds on the 1 GB files")
    parser.add_argument("--no-big", action="store_true", help="skip the 1 GB files")
    parser.add_argument("--no-collect", action="store_true", help="skip gridledger-collect")
    parser.add_argument("--only", help="only files whose name contains this (e.g. 30min)")
    parser.add_argument("--cpu", default="0", help="pin each run to this CPU list with taskset ('' for none)")
    parser.add_argument("--json", type=Path, help="also write every run here")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="fresh runs of each parser but nemreader per round, their mean taken as the round's "
        "(nemreader's one run lasts about 40 of ours, so it already averages the machine's swings)",
    )
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return

    with_nemreader = _has_nemreader()
    if not with_nemreader:
        print(f"nemreader is not installed: install it to compare, with .venv/bin/pip install {NEMREADER_PIN}")
    files = [f for f in FILES if not (args.no_big and f.size_mb) and (args.only or "") in f.name]
    print(f"machine: {_machine()}")
    runs: list[Run] = []
    for file in files:
        path = _ensure(file, args.data)
        parsers = [p for p in PARSERS if p != "nemreader" or (with_nemreader and file.nemreader)]
        if file.size_mb or args.no_collect:
            parsers = [p for p in parsers if p != "gridledger-collect"]  # it keeps every day: not for 1 GB
        rounds = args.big_rounds if file.size_mb else args.rounds
        for round_ in range(rounds):
            for name in parsers:
                if name == "nemreader" and round_ >= args.nemreader_rounds:
                    continue
                repeats = 1 if name == "nemreader" else args.repeat
                run = _mean_run(
                    [_run_child(name, file.name, path, round_=round_, cpu=args.cpu or None) for _ in range(repeats)]
                )
                runs.append(run)
                print(
                    f"  round {round_ + 1} {file.name} {name}: {run.mb_per_s:.1f} MB/s, cpu {run.cpu:.2f} s,"
                    f" peak {run.peak_mb:.0f} MB, load {run.load}",
                    file=sys.stderr,
                )
    print(_report(runs))
    print()
    print(_ratios(runs))
    print()
    print(_rounds(runs))
    if args.json:
        args.json.write_text(json.dumps({"machine": _machine(), "runs": [vars(r) for r in runs]}, indent=1))


def _spread(values: list[float], digits: int = 1) -> str:
    """Median, and the range when there is more than one value."""
    median = f"{statistics.median(values):,.{digits}f}"
    if len(values) == 1:
        return median
    return f"{median} ({min(values):,.{digits}f}-{max(values):,.{digits}f})"


def _report(runs: list[Run]) -> str:
    """A Markdown table of each parser's median round on each file, with the range."""
    lines = [
        "| file | size | parser | rounds | MB/s median (range) | values/s median | CPU s median | peak RSS max "
        "| result |",
        "|---|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for file in dict.fromkeys(r.file for r in runs):
        of_file = [r for r in runs if r.file == file]
        for parser in dict.fromkeys(r.parser for r in of_file):
            mine = [r for r in of_file if r.parser == parser]
            lines.append(
                f"| {file} | {mine[0].size_mb:.0f} MB | {parser} | {len(mine)} | {_spread([r.mb_per_s for r in mine])} "
                f"| {statistics.median(r.values / r.wall for r in mine):,.0f} "
                f"| {statistics.median(r.cpu for r in mine):.2f} "
                f"| {max(r.peak_mb for r in mine):.0f} MB | {mine[0].verdict} |"
            )
    return "\n".join(lines)


def _ratios(runs: list[Run]) -> str:
    """GridLedger's stream against nemreader and the csv loop, paired within each round
    (wall time and CPU time): median and range."""
    lines = [
        "| file | gridledger-stream vs | rounds | wall-time ratio median (range) | CPU-time ratio median (range) |",
        "|---|---|---:|---:|---:|",
    ]
    for file in dict.fromkeys(r.file for r in runs):
        by_round: dict[int, dict[str, Run]] = {}
        for run in (r for r in runs if r.file == file):
            by_round.setdefault(run.round, {})[run.parser] = run
        for other in ("nemreader", "csv-loop"):
            pairs = [
                (r["gridledger-stream"], r[other])
                for r in by_round.values()
                if {"gridledger-stream", other} <= r.keys()
            ]
            if pairs:
                walls = [theirs.wall / ours.wall for ours, theirs in pairs]
                cpus = [theirs.cpu / ours.cpu for ours, theirs in pairs]
                lines.append(f"| {file} | {other} | {len(pairs)} | x{_spread(walls, 2)} | x{_spread(cpus, 2)} |")
    return "\n".join(lines)


def _rounds(runs: list[Run]) -> str:
    """Every run, with the load average just before it."""
    lines = [
        "| file | round | parser | MB/s | CPU s | peak RSS | load (1, 5, 15 min) |",
        "|---|---:|---|---:|---:|---:|---|",
    ]
    for run in runs:
        lines.append(
            f"| {run.file} | {run.round + 1} | {run.parser} | {run.mb_per_s:.1f} | {run.cpu:.2f} "
            f"| {run.peak_mb:.0f} MB | {run.load} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
