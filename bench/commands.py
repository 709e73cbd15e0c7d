"""Benchmark consortium commands: latency on short and long streams, and commands per second.

Run from the repository root::

    .venv/bin/python bench/commands.py              # full run (about 30 s)
    .venv/bin/python bench/commands.py --smoke      # tiny sizes, what CI runs
    .venv/bin/python bench/commands.py --no-analyze # keep plans cached while tables were small

It creates a scratch PostgreSQL database, migrates it, and builds:

- SMALL: ``--small-streams`` consortia of 20 events each, through the real services (formed,
  a target, six partners, an FX rate, five signed equity commitments, a debt facility and a
  draw, a capital call prepared, approved and issued, one contribution);
- LARGE: one consortium of ``--large-events`` events (20,000) with a realistic mix: 40
  partners, thousands of commitments recorded, advanced through the stages and amended,
  hundreds of capital calls prepared, approved (by another user) and issued, a
  contribution per allocation with a few reversed and received again, two debt facilities
  with draws and repayments, and FX rates every fortnight. Every command is decided by the
  pure domain (``consortium.domain.decisions.decide``) on an in-memory state, so every
  rule holds, and the events are appended in bulk through ``ledger.store.append`` (500
  per call). ``consortium.streams.load_consortium`` must then fold the stream to the very
  state the builder holds, or the run fails. Then ``VACUUM ANALYZE`` of the ledger tables,
  as autovacuum would have done by then in a live database (``--no-analyze`` skips it:
  plans the session cached while the table was nearly empty then stay in use).

Then it measures, in this one process:

(a) raw psycopg, one INSERT + COMMIT of a ledger-sized row (as ``bench/ledger.py`` (a));
(b) ``services.commitment_record`` (a new signed equity commitment each time) on the
    small streams, round-robin, and (c) on the large stream; (a), (b) and (c) are
    interleaved call by call, rotating their order, after a warm-up, so drift falls on all
    of them alike. The hot path: each stream's state is in the per-thread cache;
(d) the same command on the large stream after ``ledger.caches.clear()`` before each
    call: a fresh process, served from the stored snapshot plus the events after it;
(e) the same after also deleting the stream's stored snapshot: a fold from the start;
(f), (g) a realistic mix through the services for ``--seconds`` on each side: record a
    commitment, advance it twice, prepare / approve / issue a call, receive four
    contributions (10 commands a cycle), alternating cycles between the large stream and
    the small ones; commands per second end to end from one process, and per-command p50;
(h), (i) (b)'s command with a snapshot save due every 5th command on each stream, this
    process publishing to a ``redis-server`` the script starts on a free port: (h) with it
    running, (i) with it SIGSTOPped (hung: it accepts connections and never answers), in
    ``--broker-rounds`` alternating blocks of ``--calls`` each. The p99 of (i) against (h)
    is what a hung broker costs a command (``--broker-rounds 0`` skips them).

A call whose load also stored a new snapshot of its stream is counted in each row's note
with what those calls cost in all. With a broker (as here, and in production) a command
only queues the save for a worker (``ledger.tasks.save_snapshot``); no worker runs in this
benchmark, so (d) saves the snapshot itself before each call, as the worker would.

It prints the table, the per-command p50 of the mix, and the ratio (c)/(b) of the p50s
against the issue's target (at most 1.3). Nothing here asserts on time; the script fails
only if something goes wrong (a command refused, a fold that does not match).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import functools
import math
import os
import pickle
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import _common

_common.put_repo_on_path()

import psycopg  # noqa: E402

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from consortium.domain.commands import ConsortiumCommand
    from consortium.domain.events import Event
    from consortium.domain.money import Money
    from consortium.domain.state import ConsortiumState

TARGET_RATIO = 1.3
BASE = "USD"
LOADER_METADATA = {
    "actor": "bench.loader",
    "source": "bench/commands.py",
    "correlation_id": "bench-commands-history",
}
FX_START = {
    "EUR": Decimal("1.0850"),
    "GBP": Decimal("1.2700"),
    "AED": Decimal("0.2723"),
    "JPY": Decimal("0.006700"),
}


@dataclasses.dataclass(frozen=True)
class Sizes:
    large_events: int  # events in the large stream before measuring
    small_streams: int  # 20-event streams the small side rotates over
    calls: int  # timed commitment_record calls per side
    warmup: int
    cold_calls: int  # (d)
    fold_repeats: int  # (e)
    seconds: float  # (f) and (g), each
    batch: int  # events per bulk append while building the large stream
    analyze: bool = True  # VACUUM ANALYZE the ledger after building, as autovacuum would
    broker_rounds: int = 3  # (h), (i): blocks of ``calls`` commands each, alternating
    broker: bool = True  # (h), (i) need a redis-server binary


def parse_args(argv: list[str] | None = None) -> Sizes:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--large-events", type=int, default=20_000, help="default 20000")
    parser.add_argument("--small-streams", type=int, default=10, help="default 10")
    parser.add_argument("--calls", type=int, default=300, help="timed calls per side (300)")
    parser.add_argument("--seconds", type=float, default=5.0, help="mix duration per side (5)")
    parser.add_argument(
        "--no-analyze",
        action="store_true",
        help="skip the VACUUM ANALYZE after the bulk load (shows how plans cached while the "
        "table was small behave)",
    )
    parser.add_argument(
        "--broker-rounds",
        type=int,
        default=3,
        help="(h)/(i): alternating blocks of --calls commands with the private Redis "
        "running and SIGSTOPped (3); 0 skips them",
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks it still works")
    args = parser.parse_args(argv)
    broker = args.broker_rounds > 0
    if args.smoke:
        return Sizes(2_000, 2, 20, 5, 5, 1, 1.0, 500, not args.no_analyze, 1, broker)
    if args.large_events < 200 or args.small_streams < 1 or args.calls < 2 or args.seconds <= 0:
        parser.error(
            "need --large-events >= 200, --small-streams >= 1, --calls >= 2, --seconds > 0"
        )
    return Sizes(
        args.large_events,
        args.small_streams,
        args.calls,
        30,
        20,
        3,
        args.seconds,
        500,
        not args.no_analyze,
        max(1, args.broker_rounds),
        broker,
    )


# --- figures ---------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of ``values``."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclasses.dataclass
class Timings:
    """Latencies of one case, in seconds."""

    name: str
    samples: list[float] = dataclasses.field(default_factory=list)
    note: str = ""
    rate: float | None = None  # end-to-end operations per second, when it is not 1/mean
    saves: list[float] = dataclasses.field(default_factory=list)  # calls that stored a snapshot

    def add(self, start: float) -> float:
        elapsed = time.perf_counter() - start
        self.samples.append(elapsed)
        return elapsed

    def saves_note(self) -> str:
        """How many calls also stored a snapshot, and what they cost."""
        if not self.saves:
            return "no call stored a snapshot"
        return (
            f"{len(self.saves)} stored a snapshot ({percentile(self.saves, 50) * 1000:.0f} ms "
            f"p50; {sum(self.saves):.1f} of {sum(self.samples):.1f} s)"
        )

    def row(self) -> list[str]:
        s = self.samples
        rate = self.rate if self.rate is not None else len(s) / sum(s)
        return [
            self.name,
            f"{len(s):,}",
            f"{percentile(s, 50) * 1000:.2f}",
            f"{percentile(s, 99) * 1000:.2f}",
            f"{max(s) * 1000:.2f}",
            f"{rate:,.0f}",
            self.note,
        ]


def usd(amount: int | str | Decimal) -> Money:
    from consortium.domain.money import Money

    return Money.of(Decimal(amount), BASE)


def millions(amount: int, currency: str = BASE) -> Money:
    from consortium.domain.money import Money

    return Money.of(Decimal(amount) * 1_000_000, currency)


def today() -> dt.date:
    """The date the services take as today (``timezone.now().date()``)."""
    from django.utils import timezone

    return timezone.now().date()


# --- the small streams: 20 events each, through the services -------------------------------


def build_small(slug: str, preparer: Any, approver: Any) -> None:
    """Twenty commands through ``consortium.services``: a young consortium."""
    from consortium import services as s

    prep, appr = s.Actor(preparer, source="bench"), s.Actor(approver, source="bench")
    start = today() - dt.timedelta(days=60)

    def on(day: int) -> dt.date:
        return start + dt.timedelta(days=day)

    s.consortium_form(
        actor=prep, slug=slug, name=f"Bench {slug}", base_currency=BASE, formed_on=on(0)
    )
    s.consortium_set_target(
        actor=prep, slug=slug, instrument="equity", amount=millions(10_000), effective_on=on(0)
    )
    partners = [f"{slug}-m{i}" for i in range(5)]
    for org in partners:
        s.partner_admit(
            actor=prep,
            slug=slug,
            organisation_id=org,
            name=f"Member {org}",
            role="member",
            effective_on=on(1),
        )
    s.partner_admit(
        actor=prep,
        slug=slug,
        organisation_id=f"{slug}-bank",
        name="Lender",
        role="lender",
        effective_on=on(1),
    )
    s.fx_rate_record(
        actor=appr, slug=slug, currency="EUR", rate=FX_START["EUR"], effective_on=on(2)
    )
    for i, org in enumerate(partners):
        s.commitment_record(
            actor=prep,
            slug=slug,
            commitment_id=f"{slug}-eq-{i}",
            organisation_id=org,
            instrument="equity",
            amount=millions(1_000 + 100 * i),
            stage="signed",
            effective_on=on(5),
        )
    s.facility_arrange(
        actor=appr,
        slug=slug,
        facility_id=f"{slug}-loan",
        lender=f"{slug}-bank",
        amount=millions(2_000),
        maturity_on=on(3650),
        revolving=False,
        effective_on=on(10),
    )
    s.facility_draw(
        actor=appr,
        slug=slug,
        facility_id=f"{slug}-loan",
        draw_id=f"{slug}-draw-1",
        amount=millions(500),
        effective_on=on(20),
    )
    call = f"{slug}-call-1"
    s.capital_call_prepare(
        actor=prep,
        slug=slug,
        call_id=call,
        amount=millions(600),
        due_on=on(45),
        purpose="First close",
        effective_on=on(30),
    )
    s.capital_call_approve(actor=appr, slug=slug, call_id=call, effective_on=on(31))
    issued = s.capital_call_issue(actor=appr, slug=slug, call_id=call, effective_on=on(32))
    first = issued.events[0].allocations[0]  # type: ignore[attr-defined]
    s.contribution_receive(
        actor=appr,
        slug=slug,
        contribution_id=f"{slug}-c-1",
        call_id=call,
        organisation_id=first.organisation_id,
        amount=first.amount,
        bank_reference="WIRE-1",
        received_on=on(40),
    )


# --- the large stream: decided by the pure domain, appended in bulk ------------------------


class History:
    """Decides commands on an in-memory state, keeping the events for a bulk append."""

    def __init__(self, slug: str, limit: int) -> None:
        from consortium.domain.state import ConsortiumState

        self.slug, self.limit, self.today = slug, limit, today()
        self.state: ConsortiumState = ConsortiumState()
        self.events: list[tuple[Event, dt.date]] = []
        self.counts: dict[str, int] = {}

    @property
    def full(self) -> bool:
        return len(self.events) >= self.limit

    def run(self, command: ConsortiumCommand) -> None:
        from consortium.domain.decisions import decide
        from consortium.domain.events import DatedEvent

        for event in decide(self.state, command, today=self.today):
            self.events.append((event, command.effective_on))
            self.counts[event.TYPE] = self.counts.get(event.TYPE, 0) + 1
            dated = DatedEvent(event, command.effective_on, version=len(self.events))
            self.state.apply(dated)

    def append_all(self, batch: int) -> float:
        """Append every event through ``ledger.store.append``; returns the seconds taken."""
        from consortium.domain.events import consortium_stream_id, event_to_stored
        from ledger.store import NewEvent, append

        stream, version = consortium_stream_id(self.slug), 0
        started = time.perf_counter()
        for first in range(0, len(self.events), batch):
            chunk = []
            for event, effective_on in self.events[first : first + batch]:
                kind, data = event_to_stored(event)
                chunk.append(NewEvent(kind, data, effective_on=effective_on))
            version = append(
                stream, chunk, expected_version=version, metadata=LOADER_METADATA
            ).version
        return time.perf_counter() - started


def large_commands(history: History, preparer: str, approver: str) -> Iterator[Any]:
    """The commands of a long-lived consortium, in date order, for as long as wanted.

    Reads the builder's state (allocations, unfunded totals) as it goes. A cycle is three
    days: FX every fifth cycle, about three and a half new commitments, up to four stage
    advances, an amendment, a capital call prepared, approved and issued, the previous
    call's contributions (one in sixty reversed and received again), facility activity.
    """
    from consortium.domain import commands as c
    from consortium.domain.positions import total_unfunded_minor

    rng = random.Random(20_000)
    slug, state = history.slug, history.state
    cycles = history.limit // 45 + 2
    day = history.today - dt.timedelta(days=cycles * 3 + 30)
    yield c.FormConsortium("Bench Long-lived Partnership", slug, BASE, day)
    yield c.SetFundraisingTarget("equity", millions(400_000), day)
    yield c.SetFundraisingTarget("total", millions(1_000_000), day)
    roles = ["founding_member"] * 4 + ["member"] * 31 + ["corporate_partner"] * 2
    roles += ["lender"] * 2 + ["technical_advisor"]
    partners = [f"org-{i:02d}" for i in range(len(roles))]
    for org, role in zip(partners, roles, strict=True):
        yield c.AdmitPartner(org, f"Partner {org} (bench)", role, day)
    investors = [org for org, role in zip(partners, roles, strict=True) if role != "lender"]
    investors = investors[:-1]  # not the technical advisor
    lenders = [org for org, role in zip(partners, roles, strict=True) if role == "lender"]
    rates = dict(FX_START)
    for currency, rate in rates.items():
        yield c.RecordFxRate(currency, rate, day)
    term, revolver = "term-loan", "revolver-eur"
    maturity = history.today + dt.timedelta(days=3650)
    yield c.ArrangeDebtFacility(term, lenders[0], millions(60_000), maturity, False, day)
    yield c.ArrangeDebtFacility(revolver, lenders[1], millions(5_000, "EUR"), maturity, True, day)

    pending: deque[str] = deque()  # commitments not yet signed, oldest first
    signed: list[str] = []
    to_pay: list[tuple[str, str, Money]] = []  # (call, organisation, amount) of the last call
    n_commit = n_call = n_contribution = n_draw = 0
    for cycle in range(1, 10**9):
        day = min(day + dt.timedelta(days=3), history.today)
        if cycle % 5 == 0:
            for currency in rates:
                drift = Decimal(rng.randint(-150, 150)) / 10_000
                rates[currency] = (rates[currency] * (1 + drift)).quantize(Decimal("0.000001"))
                yield c.RecordFxRate(currency, rates[currency], day)
        for _ in range(3 + (cycle % 2)):
            n_commit += 1
            cid = f"cm-{n_commit:05d}"
            stage = rng.choice(["indicated", "indicated", "soft_circled", "signed"])
            if n_commit % 9 == 0:
                currency = rng.choice(["EUR", "AED", "GBP"])
                amount = millions(rng.randint(20, 300), currency)
                yield c.RecordCommitment(
                    cid, rng.choice(investors), "asset_contribution", amount, "signed", day
                )
                continue
            org = rng.choice(investors)
            yield c.RecordCommitment(cid, org, "equity", millions(rng.randint(20, 400)), stage, day)
            (signed if stage == "signed" else pending).append(cid)
        for _ in range(min(4, len(pending))):
            cid = pending.popleft()
            current = state.commitments[cid].stage
            if current == "indicated" and rng.random() < 0.03:
                yield c.AdvanceCommitmentStage(cid, "withdrawn", day)
                continue
            nxt = "soft_circled" if current == "indicated" else "signed"
            yield c.AdvanceCommitmentStage(cid, nxt, day)
            (signed if nxt == "signed" else pending).append(cid)
        if signed:
            cid = rng.choice(signed)
            commitment = state.commitments[cid]
            bigger = commitment.amount_minor * 105 // 100 // 100 * 100  # whole units
            yield c.AmendCommitment(cid, usd(Decimal(bigger) / 100), day)
        for call_id, org, amount in to_pay:  # the previous call's contributions
            n_contribution += 1
            contribution = f"ct-{n_contribution:06d}"
            reference = f"WIRE-{n_contribution:06d}"
            yield c.ReceiveContribution(contribution, call_id, org, amount, reference, day)
            if n_contribution % 60 == 0:
                yield c.ReverseContribution(contribution, "Returned by the bank", day)
                again = f"{contribution}-again"
                yield c.ReceiveContribution(again, call_id, org, amount, reference + "-2", day)
        to_pay = []
        wanted = millions(rng.randint(100, 600))
        if wanted.to_minor() <= total_unfunded_minor(state):
            n_call += 1
            call_id = f"call-{n_call:04d}"
            due = day + dt.timedelta(days=30)
            yield c.PrepareCapitalCall(call_id, wanted, due, f"Drawdown {n_call}", preparer, day)
            yield c.ApproveCapitalCall(call_id, approver, day)
            yield c.IssueCapitalCall(call_id, day)
            allocations = state.calls[call_id].allocations
            to_pay = [
                (call_id, org, usd(Decimal(v) / 100)) for org, v in sorted(allocations.items())
            ]
        if cycle % 2 == 0:
            n_draw += 1
            yield c.DrawDebtFacility(term, f"td-{n_draw:04d}", millions(100), day)
        if cycle % 3 == 0:
            yield c.DrawDebtFacility(revolver, f"rd-{cycle:04d}", millions(20, "EUR"), day)
        if cycle % 6 == 0:
            yield c.RepayDebtFacility(revolver, f"rp-{cycle:04d}", millions(20, "EUR"), day)


def build_large(slug: str, limit: int, batch: int, preparer: str, approver: str) -> History:
    history = History(slug, limit)
    for command in large_commands(history, preparer, approver):
        if history.full:
            break
        history.run(command)
    history.append_all(batch)
    return history


def check_fold(history: History) -> tuple[float, int]:
    """Fold the stored stream from the ledger; it must equal the builder's state.

    Returns the seconds of that full fold (it also stores the first snapshot) and the size
    of the pickled state in bytes.
    """
    from consortium.streams import load_consortium
    from ledger import caches

    caches.clear()
    started = time.perf_counter()
    loaded = load_consortium(history.slug)
    seconds = time.perf_counter() - started
    if loaded.version != len(history.events) or loaded.state != history.state:
        raise SystemExit(
            f"load_consortium({history.slug!r}) folded version {loaded.version}, a state that "
            f"differs from the {len(history.events)} events the builder decided"
        )
    return seconds, len(pickle.dumps(loaded.state, protocol=pickle.HIGHEST_PROTOCOL))


# --- the measured commands -------------------------------------------------------------------


class Recorder:
    """``services.commitment_record``, a new signed equity commitment on each call."""

    def __init__(self, slugs: Sequence[str], actor: Any, prefix: str = "rec") -> None:
        from consortium.streams import load_consortium

        self.slugs, self.actor, self.prefix, self.calls = list(slugs), actor, prefix, 0
        self.partners = {}
        for slug in self.slugs:
            partners = load_consortium(slug).state.partners.values()
            self.partners[slug] = sorted(
                p.organisation_id
                for p in partners
                if p.is_active and p.role not in ("technical_advisor", "lender")
            )

    def __call__(self) -> None:
        from consortium import services

        slug = self.slugs[self.calls % len(self.slugs)]
        orgs = self.partners[slug]
        self.calls += 1
        services.commitment_record(
            actor=self.actor,
            slug=slug,
            commitment_id=f"{self.prefix}-{self.calls:06d}",
            organisation_id=orgs[self.calls % len(orgs)],
            instrument="equity",
            amount=millions(50),
            stage="signed",
        )


def saved_version(slug: str) -> int:
    """The version of the stored snapshot of ``slug`` (0: none).

    It moves when a command's load stores a new snapshot: how a call that paid for one is
    told from the others.
    """
    from consortium.domain.events import consortium_stream_id
    from ledger.models import Snapshot

    rows = Snapshot.objects.filter(stream=consortium_stream_id(slug))
    return rows.values_list("version", flat=True).first() or 0


class RawInserts:
    """Case (a): one INSERT + COMMIT of a ledger-sized row, as in ``bench/ledger.py``."""

    def __init__(self, conn: psycopg.Connection[Any], count: int) -> None:
        from bench.ledger import RawRows, create_raw_table, insert_sql

        create_raw_table(conn, "bench_raw_single")
        self.conn, self.statement = conn, insert_sql("bench_raw_single")
        self.rows = iter(RawRows("raw-single", 20).take(count))

    def __call__(self) -> None:
        self.conn.execute(self.statement, next(self.rows))
        self.conn.commit()


Case = tuple[Timings, Callable[[], Any], Callable[[], int]]


def timed_call(timings: Timings, work: Callable[[], Any], probe: Callable[[], int]) -> float:
    """Time one call of ``work``; note it in ``timings.saves`` if ``probe`` moved."""
    before = probe()
    start = time.perf_counter()
    work()
    elapsed = timings.add(start)
    if probe() != before:
        timings.saves.append(elapsed)
    return elapsed


def interleaved(cases: Sequence[Case], warmup: int, calls: int) -> None:
    """Run every case ``warmup + calls`` times, rotating the order each round; the
    warm-up rounds are timed into throw-away ``Timings``."""
    for index in range(warmup + calls):
        shift = index % len(cases)
        for timings, work, probe in [*cases[shift:], *cases[:shift]]:
            timed_call(timings if index >= warmup else Timings("warm-up"), work, probe)


# --- the mix ----------------------------------------------------------------------------------


class Mix:
    """A realistic cycle of ten commands on one stream, through the services."""

    def __init__(self, slug: str, preparer: Any, approver: Any, investors: Sequence[str]) -> None:
        from consortium import services as s

        self.slug, self.investors = slug, list(investors)
        self.prep = s.Actor(preparer, source="bench")
        self.appr = s.Actor(approver, source="bench")
        self.owed: deque[tuple[str, str, Money]] = deque()
        self.cycle = 0
        self.contributions = 0

    def commands(self) -> Iterator[tuple[str, Callable[[], Any]]]:
        from consortium import services as s

        self.cycle += 1
        slug, tag = self.slug, f"{self.slug}-mix-{self.cycle:05d}"
        org = self.investors[self.cycle % len(self.investors)]
        yield (
            "commitment_record",
            lambda: s.commitment_record(
                actor=self.prep,
                slug=slug,
                commitment_id=tag,
                organisation_id=org,
                instrument="equity",
                amount=millions(40),
                stage="indicated",
            ),
        )
        for stage in ("soft_circled", "signed"):
            yield (
                "commitment_advance_stage",
                functools.partial(
                    s.commitment_advance_stage,
                    actor=self.prep,
                    slug=slug,
                    commitment_id=tag,
                    stage=stage,
                ),
            )
        due = today() + dt.timedelta(days=30)
        yield (
            "capital_call_prepare",
            lambda: s.capital_call_prepare(
                actor=self.prep,
                slug=slug,
                call_id=tag,
                amount=millions(5),
                due_on=due,
                purpose="Working capital",
            ),
        )
        yield (
            "capital_call_approve",
            lambda: s.capital_call_approve(actor=self.appr, slug=slug, call_id=tag),
        )
        yield "capital_call_issue", lambda: self._issue(tag)
        for _ in range(4):
            yield "contribution_receive", self._receive

    def _issue(self, call_id: str) -> None:
        from consortium import services as s

        result = s.capital_call_issue(actor=self.appr, slug=self.slug, call_id=call_id)
        for allocation in result.events[0].allocations:  # type: ignore[attr-defined]
            self.owed.append((call_id, allocation.organisation_id, allocation.amount))

    def _receive(self) -> None:
        from consortium import services as s

        call_id, org, amount = self.owed.popleft()
        self.contributions += 1
        s.contribution_receive(
            actor=self.prep,
            slug=self.slug,
            contribution_id=f"{call_id}-{org}",
            call_id=call_id,
            organisation_id=org,
            amount=amount,
            bank_reference=f"MIX-{self.contributions:06d}",
        )


def run_mix(
    sides: dict[str, list[Mix]], seconds: float
) -> tuple[dict[str, Timings], dict[str, dict[str, list[float]]]]:
    """Alternate whole cycles between the sides until each has run ``seconds``."""
    totals = {side: Timings(side) for side in sides}
    by_command: dict[str, dict[str, list[float]]] = {side: {} for side in sides}
    spent = dict.fromkeys(sides, 0.0)
    turns = dict.fromkeys(sides, 0)
    while min(spent.values()) < seconds:
        for side, mixes in sides.items():
            mix = mixes[turns[side] % len(mixes)]
            turns[side] += 1
            probe = functools.partial(saved_version, mix.slug)
            for name, work in mix.commands():
                elapsed = timed_call(totals[side], work, probe)
                spent[side] += elapsed
                by_command[side].setdefault(name, []).append(elapsed)
    for side, timings in totals.items():
        timings.rate = len(timings.samples) / spent[side]
    return totals, by_command


# --- the broker hung -------------------------------------------------------------------------

BROKER_SAVE_EVERY = 5  # (h), (i): a snapshot save is due every 5th command on a stream


class PrivateRedis:
    """A ``redis-server`` of this run's own, on a free port: the one case (i) SIGSTOPs (the
    shared server, and the bench's database on it, are never paused)."""

    def __init__(self) -> None:
        import redis

        from bench.api import free_port

        self.port = free_port()
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--daemonize", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=1, socket_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(redis.RedisError):
                if client.ping():
                    break
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.close()
                raise SystemExit(f"redis-server did not start on port {self.port}")
            time.sleep(0.05)
        client.close()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def hang(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def wake(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def close(self) -> None:
        if self.process.poll() is None:
            self.wake()  # a stopped server would not act on SIGTERM
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@contextlib.contextmanager
def publishing_to(url: str) -> Iterator[None]:
    """Point this process's broker (Django's setting, Celery's, the environment's) at ``url``."""
    from celery import current_app
    from django.conf import settings

    saved = (os.environ.get("CELERY_BROKER_URL"), settings.CELERY_BROKER_URL)
    saved_conf = current_app.conf.get("broker_url")
    os.environ["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL = url
    current_app.conf.update(broker_url=url)
    try:
        yield
    finally:
        if saved[0] is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = saved[0]
        settings.CELERY_BROKER_URL = saved[1]
        current_app.conf.update(broker_url=saved_conf)


def broker_cases(sizes: Sizes, recorder: Callable[[], None]) -> list[Timings]:
    """(h), (i): the small-stream command with a private Redis running, then SIGSTOPped
    (hung: it accepts connections and never answers), in alternating blocks of
    ``sizes.calls``, a snapshot save due every ``BROKER_SAVE_EVERY`` commands per stream."""
    from ledger import queueing, states

    running = Timings("(h) commitment_record, small streams, Redis running")
    hung = Timings("(i) commitment_record, small streams, Redis hung (SIGSTOP)")
    waiting: list[int] = []
    server = PrivateRedis()
    save_every, states.SAVE_EVERY = states.SAVE_EVERY, BROKER_SAVE_EVERY
    try:
        with publishing_to(server.url):
            for _ in range(sizes.warmup):
                recorder()
            queueing.drain(timeout=10)
            for _ in range(sizes.broker_rounds):
                for _ in range(sizes.calls):
                    start = time.perf_counter()
                    recorder()
                    running.add(start)
                queueing.drain(timeout=10)
                server.hang()
                try:
                    for _ in range(sizes.calls):
                        start = time.perf_counter()
                        recorder()
                        hung.add(start)
                    waiting.append(queueing.pending())
                finally:
                    server.wake()
                # What waited is sent after the outbox's back-off: steady state again.
                queueing.drain(timeout=queueing.RETRY_MAX_SECONDS + 5)
    finally:
        states.SAVE_EVERY = save_every
        server.close()
    every = f"a save due every {BROKER_SAVE_EVERY} commands a stream"
    running.note = f"{every}; published by the outbox thread"
    hung.note = f"{every}; up to {max(waiting)} messages waited in the outbox, sent on SIGCONT"
    return [running, hung]


# --- the run ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    sizes = parse_args(argv)
    with _common.scratch_database() as url:
        _common.setup_django(url)
        from django.db import connection

        try:
            with psycopg.connect(url) as conn:
                settings = _common.server_settings(
                    conn, ["server_version", "fsync", "synchronous_commit", "wal_sync_method"]
                )
                print("PostgreSQL " + ", ".join(f"{k}={v}" for k, v in settings.items()))
                run(sizes, conn, _common.server_url(), url)
        finally:
            connection.close()
    return 0


def make_users() -> tuple[AbstractBaseUser, AbstractBaseUser]:
    from django.contrib.auth import get_user_model

    model = get_user_model()
    preparer = model.objects.create_user(username="bench.preparer")
    approver = model.objects.create_user(username="bench.approver")
    return preparer, approver


def vacuum_analyze(url: str) -> float:
    """What autovacuum would have done by now in a live database: fresh statistics (which
    also invalidate plans cached while the tables were nearly empty) and visibility maps."""
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE ledger_event, ledger_head, ledger_snapshot")
    return time.perf_counter() - started


def run(sizes: Sizes, conn: psycopg.Connection[Any], server: str, url: str) -> None:
    from consortium import services as s
    from consortium.domain.events import consortium_stream_id
    from consortium.streams import load_consortium
    from ledger import caches, states
    from ledger.models import Snapshot

    preparer, approver = make_users()
    small_slugs = [f"young-{i:02d}" for i in range(sizes.small_streams)]
    started = time.perf_counter()
    for slug in small_slugs:
        build_small(slug, preparer, approver)
    small_seconds = time.perf_counter() - started
    started = time.perf_counter()
    history = build_large(
        "longlived",
        sizes.large_events,
        sizes.batch,
        preparer.get_username(),
        approver.get_username(),
    )
    large_build = time.perf_counter() - started
    fold_seconds, large_bytes = check_fold(history)
    small_bytes = len(pickle.dumps(load_consortium(small_slugs[0]).state))
    state = history.state
    print(
        f"small: {len(small_slugs)} streams of {load_consortium(small_slugs[0]).version} "
        f"events via the services ({small_seconds:.1f} s); state pickles to "
        f"{small_bytes / 1024:.1f} KiB"
    )
    print(
        f"large: {len(history.events):,} events (decided and bulk-appended in "
        f"{large_build:.1f} s; folded back in {fold_seconds:.2f} s, state equal): "
        f"{len(state.partners)} partners, {len(state.commitments):,} commitments, "
        f"{len(state.calls):,} calls, {len(state.contributions):,} contributions, "
        f"{sum(len(f.draws) for f in state.facilities.values())} draws, "
        f"{sum(len(x.dates) for x in state.fx_rates.values())} FX rates; state pickles to "
        f"{large_bytes / 1024 / 1024:.2f} MiB"
    )
    print("large event mix: " + ", ".join(f"{k} {v:,}" for k, v in sorted(history.counts.items())))
    if sizes.analyze:
        print(f"then VACUUM ANALYZE of the ledger tables ({vacuum_analyze(url):.2f} s)")
    else:
        print("no VACUUM ANALYZE after the bulk load (--no-analyze): plans cached meanwhile stay")
    print()

    actor = s.Actor(preparer, source="bench")
    for slug in [*small_slugs, history.slug]:
        load_consortium(slug)  # both sides start hot
    small = Timings(f"(b) commitment_record, {len(small_slugs)} x 20-event streams")
    large = Timings(f"(c) commitment_record, {len(history.events):,}-event stream")
    raw = Timings("(a) raw INSERT + COMMIT, 1 row", note="psycopg, table LIKE ledger_event")
    _common.checkpoint(server)
    interleaved(
        [
            (small, Recorder(small_slugs, actor), lambda: sum(map(saved_version, small_slugs))),
            (large, Recorder([history.slug], actor), lambda: saved_version(history.slug)),
            (raw, RawInserts(conn, sizes.warmup + sizes.calls), lambda: 0),
        ],
        sizes.warmup,
        sizes.calls,
    )
    small.note = f"streams end at {load_consortium(small_slugs[0]).version} events; "
    small.note += small.saves_note()
    large.note = large.saves_note()

    stream = consortium_stream_id(history.slug)

    def stored_version() -> int:
        row = Snapshot.objects.filter(stream=stream).values_list("version", flat=True).first()
        return row or 0

    cold = Timings("(d) (c) after forget(): stored snapshot")
    cold_recorder = Recorder([history.slug], actor, prefix="cold")
    for _ in range(sizes.cold_calls):
        states.save_now(stream)  # what a worker does when a command queues the save
        caches.clear()
        timed_call(cold, cold_recorder, stored_version)
    cold.note = "as in a fresh process; " + cold.saves_note()

    full = Timings(f"(e) (c), no snapshot: fold {load_consortium(history.slug).version:,} events")
    for _ in range(sizes.fold_repeats):
        Snapshot.objects.filter(stream=stream).delete()
        caches.clear()
        timed_call(full, cold_recorder, stored_version)
    full.note = "read + fold the whole stream; " + full.saves_note()

    investors = {
        slug: Recorder([slug], actor).partners[slug] for slug in [*small_slugs, history.slug]
    }
    for slug in [*small_slugs, history.slug]:
        load_consortium(slug)
    sides = {
        "large": [Mix(history.slug, preparer, approver, investors[history.slug])],
        "small": [Mix(slug, preparer, approver, investors[slug]) for slug in small_slugs],
    }
    _common.checkpoint(server)
    totals, by_command = run_mix(sides, sizes.seconds)
    totals["large"].name = "(f) mixed commands, large stream"
    totals["small"].name = "(g) mixed commands, small streams"
    for timings in totals.values():
        timings.note = "per s: commands/s end to end; " + timings.saves_note()

    broker: list[Timings] = []
    if not sizes.broker:
        print("(h), (i) skipped (--broker-rounds 0)")
    elif shutil.which("redis-server") is None:
        print("(h), (i) skipped: no redis-server on PATH to start a private one")
    else:
        broker = broker_cases(sizes, Recorder(small_slugs, actor, prefix="broker"))

    cases = (raw, small, large, cold, full, totals["large"], totals["small"], *broker)
    rows = [t.row() for t in cases]
    _common.print_table(
        ["case", "calls", "p50 ms", "p99 ms", "max ms", "per s", "note"],
        rows,
        right=(1, 2, 3, 4, 5),
    )
    print()
    mix_rows = []
    for name, values in by_command["large"].items():
        small_values = by_command["small"].get(name, [])
        large_p50 = percentile(values, 50) * 1000
        small_p50 = percentile(small_values, 50) * 1000 if small_values else float("nan")
        mix_rows.append(
            [
                name,
                f"{len(values):,}",
                f"{large_p50:.2f}",
                f"{small_p50:.2f}",
                f"{large_p50 / small_p50:.2f}",
            ]
        )
    _common.print_table(
        ["mix: command", "calls (large)", "large p50 ms", "small p50 ms", "large/small"],
        mix_rows,
        right=(1, 2, 3, 4),
    )
    print()
    ratio = percentile(large.samples, 50) / percentile(small.samples, 50)
    ok = ratio <= TARGET_RATIO
    _common.print_table(
        ["ratio", "value", "target", ""],
        [
            [
                "(c)/(b) p50, large / small stream",
                f"{ratio:.2f}",
                f"<= {TARGET_RATIO:.2f}",
                "PASS" if ok else "MISS",
            ]
        ],
        right=(1,),
    )
    print()
    print("target met" if ok else "target missed (figures only; not a failure)")
    if broker:
        running, hung = broker
        print()
        _common.print_table(
            ["broker", "p50 ratio", "p99 ratio"],
            [
                [
                    "(i)/(h): Redis hung / running",
                    f"{percentile(hung.samples, 50) / percentile(running.samples, 50):.2f}",
                    f"{percentile(hung.samples, 99) / percentile(running.samples, 99):.2f}",
                ]
            ],
            right=(1, 2),
        )


if __name__ == "__main__":
    sys.exit(main())
