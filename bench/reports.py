"""Benchmark the scheduled reports: every partner statement of a large consortium, per format.

Run from the repository root::

    .venv/bin/python bench/reports.py            # 200 partners, 100,000 events
    .venv/bin/python bench/reports.py --smoke    # tiny sizes, what CI runs

It creates a scratch PostgreSQL database and builds the consortium ``bench/admin.py``
builds (``--partners`` partners with signed equity, call cycles paid by all but one
partner, debt draws, three assets) up to ``--events`` events. Then, for a quarter ending
yesterday, with every cache emptied before each timed run:

(a) figures: ``build_statements`` for every partner (what the service computes once per
    run), with the queries it made, and for one and for ten partners: as many queries
    for ten as for all shows the figures are computed once per run, not per partner;
(b) the baseline, in the same run: the bare renderer on those precomputed documents, per
    format (``rendering.render``; nothing computed, nothing stored);
(c) the service, per format: ``generate_reports(kind="statement", ...)`` for every
    partner (figures, rendering, checksum, storage through Django's storage API into a
    scratch directory, the rows), statements per second, and the share of its time in
    figures, rendering and storing;
(d) the service with every format in one run (the figures once, four renderings each).

The issue's goal: all statements in every format (d) in under 60 s, the figures computed
once per run. Nothing here asserts on time; the script fails only if a run stores the
wrong number of reports.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import _common

_common.put_repo_on_path()

from bench.admin import SLUG, History, add_assets, commands, grow_to, signed_in_client  # noqa: E402


@dataclasses.dataclass(frozen=True)
class Sizes:
    partners: int
    events: int


def parse_args(argv: list[str] | None = None) -> Sizes:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (CI)")
    parser.add_argument("--partners", type=int, default=200)
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args(argv)
    if args.smoke:
        return Sizes(8, 400)
    return Sizes(args.partners, args.events)


def counted(work: Any) -> tuple[float, int, Any]:
    """Seconds, queries made, and the result of ``work()``, every cache emptied first."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ledger import caches

    caches.clear()
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        result = work()
        elapsed = time.perf_counter() - started
    return elapsed, len(captured.captured_queries), result


def main(argv: list[str] | None = None) -> int:
    sizes = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="consortium-bench-reports-") as media:
        os.environ["DJANGO_MEDIA_ROOT"] = media
        with _common.scratch_database("consortium_bench_reports") as url:
            _common.setup_django(url)
            run(sizes)
    return 0


def run(sizes: Sizes) -> None:
    from consortium.reports.builders.statements import build_statements
    from consortium.reports.document import FORMATS, Anchor
    from consortium.reports.rendering import render
    from consortium.reports.services import generate_reports
    from ledger.store import head_state

    signed_in_client()  # the bench user the assets are registered by
    history = History(SLUG)
    started = time.perf_counter()
    cycles = sizes.events // max(sizes.partners, 1) + 10
    grow_to(history, commands(history, sizes.partners, cycles), sizes.events - 9)
    add_assets(3)
    built = time.perf_counter() - started
    position, chain_hash = head_state()
    anchor = Anchor(position, chain_hash)
    end = history.today - dt.timedelta(days=1)
    start = end - dt.timedelta(days=91)
    print(
        f"ledger: {position:,} events, {sizes.partners} partners (+ a lender), built in "
        f"{built:.1f} s; statements for {start.isoformat()} to {end.isoformat()}"
    )

    orgs = [f"org-{number:03d}" for number in range(sizes.partners)]

    def figures(partners: list[str] | None) -> Any:
        return build_statements(SLUG, partners, start, end, anchor, end)

    cold, _, _ = counted(lambda: figures(None))  # the process's first: imports, cold pages
    seconds, queries, documents = counted(lambda: figures(None))
    count = len(documents)
    table = [[f"{count} (the first run in the process)", f"{cold:.2f}", ""]]
    table.append([f"{count}", f"{seconds:.2f}", f"{queries}"])
    fewer: dict[int, int] = {}
    for some in sorted({1, min(10, count)}):
        some_seconds, fewer[some], _ = counted(lambda some=some: figures(orgs[:some]))
        table.append([f"{some}", f"{some_seconds:.2f}", f"{fewer[some]}"])
    print("\n(a) figures (build_statements), caches emptied before each")
    _common.print_table(["statements", "seconds", "queries"], table, right=(1, 2))
    once = fewer[min(10, count)] == queries
    print(
        f"  figures computed once per run (queries do not grow with the partners): "
        f"{'yes' if once else 'NO'} ({', '.join(f'{n}: {q}' for n, q in fewer.items())}, "
        f"{count}: {queries})"
    )

    rows, bare = [], {}
    for fmt in FORMATS:  # warm-up: each renderer's first call loads what it keeps
        render(documents[0], fmt)
    for fmt in FORMATS:
        began = time.perf_counter()
        for document in documents:
            render(document, fmt)
        bare[fmt] = time.perf_counter() - began
    parameters = {
        "consortium": SLUG,
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
    }
    for fmt in FORMATS:
        elapsed, _, stored = counted(
            lambda fmt=fmt: generate_reports(
                kind="statement",
                parameters=parameters,
                formats=[fmt],
                requested_by="bench",
                report_date=end,
                position=position,
            )
        )
        if len(stored) != count:
            raise SystemExit(f"{fmt}: {len(stored)} reports stored, expected {count}")
        rest = max(elapsed - seconds - bare[fmt], 0.0)
        rows.append(
            [
                fmt,
                f"{bare[fmt]:.2f}",
                f"{count / bare[fmt]:.0f}",
                f"{elapsed:.2f}",
                f"{count / elapsed:.0f}",
                f"{seconds / elapsed:.0%}",
                f"{bare[fmt] / elapsed:.0%}",
                f"{rest / elapsed:.0%}",
            ]
        )
    print(f"\n(b) baseline: the bare renderer on {count} precomputed statements; (c) the service")
    _common.print_table(
        [
            "format",
            "(b) s",
            "(b) /s",
            "(c) s",
            "(c) /s",
            "figures",
            "rendering",
            "storing",
        ],
        rows,
        right=(1, 2, 3, 4, 5, 6, 7),
    )
    elapsed, _, stored = counted(
        lambda: generate_reports(
            kind="statement",
            parameters=parameters,
            formats=list(FORMATS),
            requested_by="bench",
            report_date=end,
            position=position,
        )
    )
    if len(stored) != count * len(FORMATS):
        raise SystemExit(f"all formats: {len(stored)} reports stored, expected {count * 4}")
    print(
        f"\n(d) every format in one run: {count} statements x {len(FORMATS)} formats = "
        f"{len(stored)} files in {elapsed:.1f} s ({len(stored) / elapsed:.0f} files/s; "
        f"goal: under 60 s for 200 statements)"
    )


if __name__ == "__main__":
    raise SystemExit(main())
