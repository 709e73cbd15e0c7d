"""Is each speed mechanism worth keeping? Alternate runs with and without it, over HTTP.

Run from the repository root::

    .venv/bin/python bench/mechanisms.py                 # every mechanism, 5 pairs each
    .venv/bin/python bench/mechanisms.py --only rendered-answers --pairs 7
    .venv/bin/python bench/mechanisms.py --smoke         # one short pair of one mechanism (CI)

Every mechanism of ``ledger.speed`` can be switched off with ``CONSORTIUM_SPEED_OFF``. This
seeds one scratch database (the demo, as ``bench/api.py`` does), then for each mechanism
starts gunicorn and a real Celery worker with the mechanism on and off in turn (the order
alternating from pair to pair, so drift in the machine falls on both sides alike) and runs
the ``bench/api.py`` case whose figure the mechanism is meant to move. A rebuild mechanism
is measured instead by ``bench/projections.py`` (b), the rebuild of every projection, each
run in a fresh process, on ``--rebuild-consortia`` consortia of 10,000 events of its
realistic mix, added to the scratch database once, after the HTTP cases. It prints each
side's runs, their medians, the gain (median with / median without, or the reverse for a
latency) and the spread of the runs (largest minus smallest, over the median, on both
sides); a mechanism is worth its code only if its gain exceeds that spread.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import _common

_common.put_repo_on_path()

from bench import api  # noqa: E402


@dataclasses.dataclass(frozen=True)
class Probe:
    """The case that shows a mechanism's worth, and which figure of it to read."""

    case: str
    make: Callable[[], api.Request] | None  # None: a rebuild; the figure is events per second
    rate: int | None = None  # open loop at this rate: the figure is the p99 (lower is better)


def _probes() -> dict[str, Probe]:
    return {
        "state-copies": Probe("(3) POST commitments/", api.write),
        "prepared-statements": Probe("(1) GET bench/trivial/", api.trivial),
        "stream-lock": Probe("(3) POST commitments/", api.write),
        "rendered-answers": Probe("(4) GET consortia/aip/progress/", api.progress),
        "gc-freeze": Probe("(6) POST commitments/ at 100/s", api.write, rate=100),
        "debounced-triggers": Probe("(3) POST commitments/", api.write),
        "rebuild-gc-pause": Probe(REBUILD_CASE, None),
    }


REBUILD_CASE = "bench/projections.py (b) rebuild"
REBUILD_EVENTS_EACH = 10_000


def build_rebuild_ledger(consortia: int, events_each: int) -> None:
    """The consortia a rebuild probe rebuilds (``bench/projections.py``'s mix)."""
    from bench.commands import build_large

    for number in range(consortia):
        build_large(f"mech-{number:03d}", events_each, 1000, "bench.preparer", "bench.approver")


def rebuild_rate(url: str) -> float:
    """One rebuild of every projection in a fresh process: its events per second."""
    done = subprocess.run(
        [sys.executable, __file__, "--rebuild-run", url],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ.copy(),
    )
    return float(done.stdout.split()[-1])


def rebuild_run(url: str) -> int:
    """``--rebuild-run``: rebuild in this process and print its events per second last."""
    _common.setup_django(url)
    from django.db import connection

    from bench.projections import rebuild_all

    try:
        events, seconds = rebuild_all()
    finally:
        connection.close()
    print(f"{events / seconds:.1f}")
    return 0


@dataclasses.dataclass
class Sides:
    """The figures of one mechanism's runs, with it on and with it off."""

    lower_is_better: bool
    on: list[float] = dataclasses.field(default_factory=list)
    off: list[float] = dataclasses.field(default_factory=list)

    def gain(self) -> float:
        on, off = statistics.median(self.on), statistics.median(self.off)
        if self.lower_is_better:
            return off / on if on > 0 else float("inf")
        return on / off if off > 0 else float("inf")

    def spread(self) -> float:
        """The larger relative range (max - min over the median) of the two sides."""
        ranges = [
            (max(side) - min(side)) / statistics.median(side)
            for side in (self.on, self.off)
            if side and statistics.median(side) > 0
        ]
        return max(ranges, default=0.0)


def measure(url: str, key: str, name: str, probe: Probe, pairs: int, sizes: api.Sizes) -> Sides:
    sides = Sides(lower_is_better=probe.rate is not None)
    for number in range(pairs):
        order = (True, False) if number % 2 == 0 else (False, True)
        for enabled in order:
            os.environ["CONSORTIUM_SPEED_OFF"] = "" if enabled else name
            if probe.make is None:
                (sides.on if enabled else sides.off).append(rebuild_rate(url))
                continue
            with api.servers(url, key, sizes.workers, sizes.threads) as (server, worker):
                pids = (server.process.pid, worker.process.pid)
                if probe.rate is not None:  # run_case warms only closed-loop cases
                    api.closed_loop(
                        server.port, key, probe.case, probe.make, sizes.clients, sizes.warmup
                    )
                outcome = api.run_case(
                    server.port,
                    key,
                    probe.case,
                    probe.make,
                    sizes,
                    url=url,
                    pids=pids,
                    rate=probe.rate,
                )
            figure = outcome.p(99) if probe.rate is not None else outcome.rate
            (sides.on if enabled else sides.off).append(figure)
    os.environ["CONSORTIUM_SPEED_OFF"] = ""
    return sides


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", help="measure only this mechanism")
    parser.add_argument("--pairs", type=int, default=5, help="runs with and without, each")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each run")
    parser.add_argument("--smoke", action="store_true", help="one short pair of one mechanism")
    parser.add_argument(
        "--rebuild-consortia", type=int, default=3, help="consortia for the rebuild probes"
    )
    parser.add_argument("--rebuild-run", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rebuild_run:
        return rebuild_run(args.rebuild_run)
    probes = _probes()
    names = args.only or list(probes)
    unknown = sorted(set(names) - set(probes))
    if unknown:
        parser.error(f"unknown mechanism(s) {', '.join(unknown)}; choose from {', '.join(probes)}")
    pairs = args.pairs
    sizes = api.Sizes(args.clients, args.seconds, 1.0, 100, args.seconds, False)
    rebuild_sizes = (args.rebuild_consortia, REBUILD_EVENTS_EACH)
    if args.smoke:
        names, pairs = names[:1], 1
        sizes = api.Sizes(4, 0.5, 0.2, 100, 0.5, False)
        rebuild_sizes = (1, 300)
    os.environ.update(api.SERVER_ENV)
    with _common.scratch_database() as url:
        _common.flush_bench_broker()
        _common.setup_django(url)
        from django.db import connection

        try:
            key = api.prepare(url)
            connection.close()
            results = {}
            built = False
            for name in sorted(names, key=lambda name: probes[name].make is None):
                if probes[name].make is None and not built:
                    build_rebuild_ledger(*rebuild_sizes)
                    connection.close()
                    built = True
                print(f"{name}: {pairs} pairs of {probes[name].case}", flush=True)
                results[name] = measure(url, key, name, probes[name], pairs, sizes)
        finally:
            connection.close()
    rows = []
    for name, sides in results.items():
        unit = "p99 ms" if sides.lower_is_better else "2xx/s"
        if probes[name].make is None:
            unit = "events/s"
        gain, spread = sides.gain(), sides.spread()
        rows.append(
            [
                name,
                unit,
                ", ".join(f"{v:.0f}" for v in sides.on),
                ", ".join(f"{v:.0f}" for v in sides.off),
                f"{gain:.2f}",
                f"{spread:.2f}",
                "keep" if gain - 1 > spread else "NOT SHOWN",
            ]
        )
    print()
    _common.print_table(
        ["mechanism", "figure", "with it", "without it", "gain", "spread", "verdict"],
        rows,
        right=(4, 5),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
