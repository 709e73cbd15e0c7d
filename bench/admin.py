"""Benchmark the deal-team workspace's dashboards: does a live page's cost grow with the ledger?

Run from the repository root::

    .venv/bin/python bench/admin.py            # 1,000 then 100,000 events, 200 partners
    .venv/bin/python bench/admin.py --smoke    # tiny sizes, what CI runs

It creates a scratch PostgreSQL database, migrates it, and builds one consortium with
``--partners`` partners (each admitted with a signed equity commitment), then capital
calls, each issued to every partner and paid by all but one of them the next cycle, the
last one three cycles later (so a few calls are always open and overdue), debt draws and
an FX rate now and then: decided by the pure domain on an in-memory state and appended in
bulk, as ``bench/commands.py`` builds its long stream.
Three assets are held by the consortium.

At each ledger size (``--sizes``, default 1,000 and 100,000 events) the projections are
caught up and the database analysed (as autovacuum would have), and then, through
Django's test client in this process (the whole request cycle: middleware, session, the
view, the template), one signed-in deal-team superuser requests, interleaved and after a
warm-up:

(a) the plain admin changelist of users (``auth/user/``): the baseline, in the same run;
(b) the landing page (``admin:index``);
(c) the consortium's live dashboard (``admin:workspace-consortium``);

``--requests`` times each, and prints p50 and p95 server time and the queries each
request made. The issue's goal: (c)'s p95 under 150 ms at both sizes, with the same
number of queries. Then, measured separately because they fold the ledger:

(d) the dashboard as known at the head (``?known_at=<head>``): the current fold, served by
    the process's state copies and the stored snapshot;
(e) the dashboard as of a past date (``?on=``, the middle of the history): a fold of the
    consortium's stream from its first event, growing with it.

Nothing here asserts on time; the script fails only if a page does not answer 200.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import math
import os
import sys
import time
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import _common

_common.put_repo_on_path()

SLUG = "bench-dash"
USERNAME = "bench.deal"


@dataclasses.dataclass(frozen=True)
class Sizes:
    sizes: tuple[int, ...]  # ledger sizes (events) at which pages are measured
    partners: int
    requests: int  # timed requests per page and size
    warmup: int
    folds: int  # timed requests of the as-of views


def parse_args(argv: list[str] | None = None) -> Sizes:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (CI)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000])
    parser.add_argument("--partners", type=int, default=200)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--folds", type=int, default=3)
    args = parser.parse_args(argv)
    if args.smoke:
        return Sizes((300, 700), 20, 5, 1, 1)
    return Sizes(tuple(sorted(args.sizes)), args.partners, args.requests, args.warmup, args.folds)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


# --- the ledger ------------------------------------------------------------------------------


class History:
    """Decides commands on an in-memory state; appends the new events in bulk."""

    def __init__(self, slug: str) -> None:
        from consortium.domain.state import ConsortiumState

        self.slug = slug
        self.today = dt.date.today()
        self.state = ConsortiumState()
        self.events: list[tuple[Any, dt.date]] = []
        self.appended = 0

    def run(self, command: Any) -> None:
        from consortium.domain.decisions import decide
        from consortium.domain.events import DatedEvent

        for event in decide(self.state, command, today=self.today):
            self.events.append((event, command.effective_on))
            self.state.apply(DatedEvent(event, command.effective_on, version=len(self.events)))

    def append_new(self, batch: int = 1000) -> None:
        from consortium.domain.events import consortium_stream_id, event_to_stored
        from ledger.store import NewEvent, append

        stream = consortium_stream_id(self.slug)
        metadata = {"actor": "bench.loader", "source": "bench/admin.py", "correlation_id": "b"}
        while self.appended < len(self.events):
            chunk = self.events[self.appended : self.appended + batch]
            new = []
            for event, effective_on in chunk:
                kind, data = event_to_stored(event)
                new.append(NewEvent(kind, data, effective_on=effective_on))
            append(stream, new, expected_version=self.appended, metadata=metadata)
            self.appended += len(chunk)


def usd(minor: int) -> Any:
    from consortium.domain.money import Money

    return Money.from_minor(minor, "USD")


def commands(history: History, partners: int, cycles: int) -> Iterator[Any]:
    """A consortium of ``partners`` partners, then ``cycles`` cycles of a call issued to
    all and paid by all but one (a different one each time) the next cycle, and by that
    one three cycles later."""
    from consortium.domain import commands as c

    day = history.today - dt.timedelta(days=cycles * 2 + 60)
    yield c.FormConsortium("Bench Dashboard Partnership", SLUG, "USD", day)
    yield c.SetFundraisingTarget("equity", usd(15 * 10**8 * 100 * partners), day)
    yield c.SetFundraisingTarget("total", usd(3 * 10**9 * 100 * partners), day)
    orgs = [f"org-{i:03d}" for i in range(partners)]
    for org in orgs:
        yield c.AdmitPartner(org, f"Partner {org} (bench)", "member", day)
        yield c.RecordCommitment(f"eq-{org}", org, "equity", usd(10**9 * 100), "signed", day)
    yield c.AdmitPartner("lender", "Lender (bench)", "lender", day)
    maturity = history.today + dt.timedelta(days=3650)
    yield c.ArrangeDebtFacility("term", "lender", usd(10**11 * 100), maturity, False, day)
    unpaid: list[tuple[str, str, int]] = []
    late: dict[int, list[tuple[str, str, int]]] = {}  # paid three cycles after the rest
    for cycle in range(1, cycles + 1):
        day = min(day + dt.timedelta(days=2), history.today)
        for call_id, org, amount in unpaid + late.pop(cycle, []):
            yield c.ReceiveContribution(f"k-{call_id}-{org}", call_id, org, usd(amount), "W", day)
        call_id = f"call-{cycle:05d}"
        yield c.PrepareCapitalCall(
            call_id, usd(partners * 10**6 * 100), day, "Drawdown", "bench.preparer", day
        )
        yield c.ApproveCapitalCall(call_id, "bench.approver", day)
        yield c.IssueCapitalCall(call_id, day)
        skipped = orgs[cycle % partners]
        allocations = history.state.calls[call_id].allocations
        unpaid = [(call_id, o, v) for o, v in sorted(allocations.items()) if o != skipped]
        late[cycle + 4] = [(call_id, skipped, allocations[skipped])]
        if cycle % 10 == 0:
            yield c.DrawDebtFacility("term", f"d-{cycle}", usd(10**9 * 100), day)
        if cycle % 25 == 0:
            yield c.RecordFxRate("EUR", Decimal("1.08") + Decimal(cycle % 50) / 1000, day)


def grow_to(history: History, feed: Iterator[Any], events: int) -> None:
    while len(history.events) < events:
        history.run(next(feed))
    history.append_new()


def add_assets(count: int) -> None:
    from django.contrib.auth import get_user_model

    from consortium import services as s
    from consortium.domain.money import Percent
    from consortium.domain.values import Holder

    actor = s.Actor(get_user_model().objects.get(username=USERNAME))
    on = dt.date.today() - dt.timedelta(days=1)
    for number in range(count):
        asset_id = f"bench-dc-{number}"
        s.asset_register(
            actor=actor, asset_id=asset_id, sponsor=SLUG, kind="data_centre",
            name=f"Campus {number}", location="Virginia", capacity_mw=Decimal(500),
            estimated_cost=usd(10**9 * 100), effective_on=on,
        )  # fmt: skip
        s.stake_acquire(
            actor=actor, asset_id=asset_id, holder=Holder.consortium(SLUG),
            percent=Percent.of("60"), effective_on=on,
        )  # fmt: skip
        s.stake_acquire(
            actor=actor, asset_id=asset_id, holder=Holder.organisation("org-001"),
            percent=Percent.of("20"), effective_on=on,
        )  # fmt: skip


def catch_up() -> float:
    """Every projection to the head, then ``ANALYZE``, as autovacuum would have done by
    the time a live database is that large (without statistics the planner reads a
    consortium's every allocation to find the few that are open)."""
    from django.db import connection

    from ledger.projections import registry, runner

    started = time.perf_counter()
    for name in registry.names():
        runner.catch_up(name, batch=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


# --- the requests ------------------------------------------------------------------------------


@dataclasses.dataclass
class Page:
    label: str
    url: str
    times: list[float] = dataclasses.field(default_factory=list)
    queries: list[int] = dataclasses.field(default_factory=list)

    def row(self) -> list[str]:
        p50, p95 = percentile(self.times, 0.5), percentile(self.times, 0.95)
        spread = f"{min(self.queries)}" + (
            f"-{max(self.queries)}" if max(self.queries) != min(self.queries) else ""
        )
        return [self.label, f"{len(self.times)}", f"{p50 * 1000:.1f}", f"{p95 * 1000:.1f}", spread]


def request(client: Any, page: Page) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        response = client.get(page.url, secure=True)
        elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"{page.url} answered {response.status_code}")
    page.times.append(elapsed)
    page.queries.append(len(captured.captured_queries))


def interleaved(client: Any, pages: Sequence[Page], warmup: int, count: int) -> None:
    for _ in range(warmup):
        for page in pages:
            request(client, page)
    for page in pages:
        page.times.clear()
        page.queries.clear()
    for number in range(count):
        turn = number % len(pages)
        for page in [*pages[turn:], *pages[:turn]]:
            request(client, page)


def signed_in_client() -> Any:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from consortium.models import RoleGrant

    user, _ = get_user_model().objects.get_or_create(
        username=USERNAME, defaults={"is_staff": True, "is_superuser": True}
    )
    RoleGrant.objects.get_or_create(user=user, role="deal_team", consortium="")
    client = Client()
    client.force_login(user)
    return client


def print_table(title: str, pages: Sequence[Page]) -> None:
    print(f"\n{title}")
    headers = ["page", "requests", "p50 ms", "p95 ms", "queries"]
    _common.print_table(headers, [p.row() for p in pages], right=(1, 2, 3, 4))


# --- main ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    sizes = parse_args(argv)
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
    with _common.scratch_database("consortium_bench_admin") as url:
        _common.setup_django(url)
        run(sizes, url)
    return 0


def run(sizes: Sizes, url: str) -> None:
    from django.urls import reverse

    from ledger.store import head

    client = signed_in_client()
    history = History(SLUG)
    per_cycle = 2 * sizes.partners + 4
    cycles = max(sizes.sizes) // max(sizes.partners, 1) + 10
    feed = commands(history, sizes.partners, cycles)
    dashboard = reverse("admin:workspace-consortium", args=[SLUG])
    summary: list[tuple[int, Page, Page]] = []
    for number, target in enumerate(sizes.sizes):
        started = time.perf_counter()
        grow_to(history, feed, target - (3 * 3 if number == 0 else 0))
        if number == 0:
            add_assets(3)
        built = time.perf_counter() - started
        caught = catch_up()
        events = head()
        print(
            f"\nledger: {events:,} events ({sizes.partners} partners, about {per_cycle} events "
            f"a call cycle); built in {built:.1f} s, projections caught up in {caught:.1f} s"
        )
        baseline = Page("(a) admin changelist auth/user/", reverse("admin:auth_user_changelist"))
        landing = Page("(b) landing page", reverse("admin:index"))
        live = Page("(c) live consortium dashboard", dashboard)
        interleaved(client, [baseline, landing, live], sizes.warmup, sizes.requests)
        print_table(f"live pages at {events:,} events", [baseline, landing, live])
        middle = history.events[len(history.events) // 2][1].isoformat()
        current = Page("(d) as known at the head", f"{dashboard}?known_at={events}")
        past = Page(f"(e) as of {middle} (full fold)", f"{dashboard}?on={middle}")
        interleaved(client, [current, past], 1, sizes.folds)
        print_table(f"as-of views at {events:,} events", [current, past])
        summary.append((events, baseline, live))
    print("\nsummary: the live dashboard against the baseline, at each ledger size")
    for events, baseline, live in summary:
        ratio = percentile(live.times, 0.95) / percentile(baseline.times, 0.95)
        print(
            f"  {events:>9,} events: dashboard p95 {percentile(live.times, 0.95) * 1000:.1f} ms "
            f"(goal < 150 ms), {ratio:.2f}x the changelist's; queries "
            f"{max(live.queries)} (changelist {max(baseline.queries)})"
        )
    counts = {max(live.queries) for _, _, live in summary}
    print(f"  dashboard queries the same at every size: {'yes' if len(counts) == 1 else 'NO'}")


if __name__ == "__main__":
    raise SystemExit(main())
