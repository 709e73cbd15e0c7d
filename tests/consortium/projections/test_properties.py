"""Property: for random valid command sequences (through ``consortium.services``), the
projections maintained incrementally in small batches equal a full rebuild in one batch,
the live selectors equal the as-of fold at now, and the trackers' running sums equal a
fresh count. Ownership never exceeds 100 %; a facility's availability stays within its
amount."""

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consortium import services as s
from consortium.domain.errors import DomainError
from consortium.domain.money import Money, Percent
from consortium.domain.positions import total_unfunded_minor
from consortium.domain.values import Holder, Tranche
from consortium.periods import check_seals
from consortium.projections import NAMES, asof, selectors
from consortium.projections.figures import (
    ConsortiumTracker,
    facility_rows,
    position_rows,
    progress_rows,
)
from consortium.streams import consortium_history, load_asset, load_consortium
from ledger.projections import runner
from ledger.store import head

pytestmark = pytest.mark.django_db

START = dt.date(2024, 1, 2)
ORGS = ("ann", "bea", "cal", "dan")
_examples = itertools.count(1)


def usd(minor: int) -> Money:
    return Money.from_minor(minor, "USD")


class Scenario:
    """Issues random, mostly valid commands; a refused one appends nothing and is skipped."""

    def __init__(self, data, alice, bob):
        self.data, self.alice, self.bob = data, alice, bob
        n = next(_examples)
        self.slugs = (f"x{n}-a", f"x{n}-b")
        self.asset = f"asset-x{n}"
        self.day = START
        self.ids = itertools.count(1)
        self.refused = 0

    def draw(self, strategy):
        return self.data.draw(strategy)

    def on(self) -> dt.date:
        """Mostly today's scenario date; sometimes back-dated a little."""
        if self.draw(st.integers(0, 5)) == 0:
            return max(self.day - dt.timedelta(days=self.draw(st.integers(1, 40))), START)
        return self.day

    def run(self, command, **kwargs):
        try:
            return command(**kwargs)
        except DomainError:
            self.refused += 1
            return None

    def setup(self):
        for slug in self.slugs:
            s.consortium_form(
                actor=self.alice, slug=slug, name=slug.upper(), base_currency="USD", formed_on=START
            )
            for org in ORGS:
                role = "lender" if org == "dan" else "member"
                s.partner_admit(
                    actor=self.alice, slug=slug, organisation_id=org, name=org.title(), role=role,
                    effective_on=START,
                )  # fmt: skip
            for org in ORGS[:2]:
                s.commitment_record(
                    actor=self.alice, slug=slug, commitment_id=f"{slug}-{org}",
                    organisation_id=org, instrument="equity",
                    amount=usd(self.draw(st.integers(1, 10_000)) * 100), stage="signed",
                    effective_on=START,
                )  # fmt: skip
            s.interest_rate_set(  # --- interest and equalisation: late payments owe interest
                actor=self.bob, slug=slug, kind="default",
                rate=Decimal(self.draw(st.integers(1, 2000))) / 100, effective_on=START,
            )  # fmt: skip
        s.asset_register(
            actor=self.alice, asset_id=self.asset, sponsor=self.slugs[0], kind="data_centre",
            name="Campus", location="Somewhere", capacity_mw=Decimal("100.5"),
            estimated_cost=usd(10_000_000), effective_on=START,
        )  # fmt: skip

    def step(self):
        self.day = min(self.day + dt.timedelta(days=self.draw(st.integers(0, 25))), dt.date.today())
        slug = self.draw(st.sampled_from(self.slugs))
        state = load_consortium(slug).state
        action = self.draw(
            st.sampled_from(
                ["commit", "call", "pay", "commit", "call", "pay", "stake", "advance", "amend",
                 "reverse", "debt", "target", "fx", "role", "stake", "catch_up",
                 "close", "reopen",
                 "interest_rate", "waive", "waive", "pay", "waive", "join_late", "join_late"]
            )
        )  # fmt: skip
        getattr(self, action)(slug, state)

    def commit(self, slug, state):
        instrument = self.draw(
            st.sampled_from(["equity", "equity", "asset_contribution", "corporate_partnership"])
        )
        currency = "USD"
        if instrument != "equity" and "EUR" in state.fx_rates and self.draw(st.booleans()):
            currency = "EUR"
        self.run(
            s.commitment_record, actor=self.alice, slug=slug, commitment_id=f"c{next(self.ids)}",
            organisation_id=self.draw(st.sampled_from(ORGS[:3])), instrument=instrument,
            amount=Money.from_minor(self.draw(st.integers(100, 100_000)) * 100, currency),
            stage=self.draw(st.sampled_from(["indicated", "soft_circled", "signed", "signed"])),
            effective_on=self.on(),
        )  # fmt: skip

    def advance(self, slug, state):
        open_ = sorted(
            c for c, v in state.commitments.items() if v.stage not in ("signed", "withdrawn")
        )
        if not open_ or self.draw(st.integers(0, 4)) == 0:
            open_ = sorted(state.commitments)
        if not open_:
            return
        self.run(
            s.commitment_advance_stage, actor=self.alice, slug=slug,
            commitment_id=self.draw(st.sampled_from(open_)),
            stage=self.draw(st.sampled_from(["soft_circled", "signed", "signed", "withdrawn"])),
            effective_on=self.on(),
        )  # fmt: skip

    def amend(self, slug, state):
        if not state.commitments:
            return
        commitment = state.commitments[self.draw(st.sampled_from(sorted(state.commitments)))]
        low = max(commitment.called_minor // 100, 1)
        self.run(
            s.commitment_amend, actor=self.alice, slug=slug, commitment_id=commitment.commitment_id,
            amount=Money.from_minor(
                self.draw(st.integers(low, low + 100_000)) * 100, commitment.currency
            ),
            effective_on=self.on(),
        )  # fmt: skip

    def call(self, slug, state):
        open_calls = sorted(c for c, v in state.calls.items() if v.status in ("draft", "approved"))
        if open_calls and self.draw(st.booleans()):
            call = state.calls[self.draw(st.sampled_from(open_calls))]
            if self.draw(st.integers(0, 4)) == 0:
                self.run(
                    s.capital_call_cancel, actor=self.bob, slug=slug, call_id=call.call_id,
                    reason="Not needed", effective_on=self.day,
                )  # fmt: skip
            elif call.status == "draft":
                self.run(s.capital_call_approve, actor=self.bob, slug=slug, call_id=call.call_id,
                         effective_on=self.day)  # fmt: skip
            else:
                self.run(s.capital_call_issue, actor=self.bob, slug=slug, call_id=call.call_id,
                         effective_on=min(self.day, call.due_on))  # fmt: skip
            return
        unfunded = total_unfunded_minor(state)
        if unfunded < 1:
            return
        call_id = f"call{next(self.ids)}"
        prepared = self.run(
            s.capital_call_prepare, actor=self.alice, slug=slug, call_id=call_id,
            amount=usd(self.draw(st.integers(1, unfunded))),
            due_on=self.day + dt.timedelta(days=self.draw(st.integers(0, 60))),
            purpose="Capex", effective_on=self.day,
        )  # fmt: skip
        steps = self.draw(st.sampled_from([0, 1, 2, 2, 2]))
        if prepared and steps >= 1:
            self.run(s.capital_call_approve, actor=self.bob, slug=slug, call_id=call_id,
                     effective_on=self.day)  # fmt: skip
        if prepared and steps >= 2:
            self.run(s.capital_call_issue, actor=self.bob, slug=slug, call_id=call_id,
                     effective_on=self.day)  # fmt: skip

    def pay(self, slug, state):
        owed = sorted(
            (call.call_id, org, call.owed_minor(org))
            for call in state.calls.values()
            if call.status == "issued"
            for org in call.allocations
            if call.owed_minor(org) > 0
        )
        if not owed:
            return
        call_id, org, amount = self.draw(st.sampled_from(owed))
        self.run(
            s.contribution_receive, actor=self.bob, slug=slug, contribution_id=f"k{next(self.ids)}",
            call_id=call_id, organisation_id=org, amount=usd(self.draw(st.integers(1, amount))),
            bank_reference="REF", received_on=max(self.on(), state.calls[call_id].issued_on),
        )  # fmt: skip

    def reverse(self, slug, state):
        live = sorted(c for c, v in state.contributions.items() if v.reversed_on is None)
        if not live:
            return
        self.run(
            s.contribution_reverse, actor=self.bob, slug=slug,
            contribution_id=self.draw(st.sampled_from(live)), reason="Returned by the bank",
            effective_on=self.day,
        )  # fmt: skip

    def debt(self, slug, state):
        facilities = sorted(state.facilities)
        choice = self.draw(st.sampled_from(["arrange", "draw", "draw", "repay"]))
        if choice == "arrange" or not facilities:
            currency = "EUR" if "EUR" in state.fx_rates and self.draw(st.booleans()) else "USD"
            self.run(
                s.facility_arrange, actor=self.bob, slug=slug, facility_id=f"f{next(self.ids)}",
                lender="dan",
                amount=Money.from_minor(self.draw(st.integers(1, 10_000)) * 100, currency),
                maturity_on=dt.date(2035, 1, 1), revolving=self.draw(st.booleans()),
                effective_on=self.on(),
            )  # fmt: skip
            return
        facility = state.facilities[self.draw(st.sampled_from(facilities))]
        if choice == "draw":
            if facility.available_minor < 1:
                return
            self.run(
                s.facility_draw, actor=self.bob, slug=slug, facility_id=facility.facility_id,
                draw_id=f"d{next(self.ids)}",
                amount=Money.from_minor(
                    self.draw(st.integers(1, facility.available_minor)), facility.currency
                ),
                effective_on=self.day,
            )  # fmt: skip
        elif facility.outstanding_minor > 0:
            self.run(
                s.facility_repay, actor=self.bob, slug=slug, facility_id=facility.facility_id,
                repayment_id=f"r{next(self.ids)}",
                amount=Money.from_minor(
                    self.draw(st.integers(1, facility.outstanding_minor)), facility.currency
                ),
                effective_on=self.day,
            )  # fmt: skip

    def target(self, slug, state):
        amount = self.draw(st.integers(2, 50_000)) * 100_00
        tranches: tuple[Tranche, ...] = ()
        if self.draw(st.booleans()):
            first = self.draw(st.integers(1, amount - 1))
            tranches = (
                Tranche(usd(first), self.day),
                Tranche(usd(amount - first), self.day + dt.timedelta(days=365)),
            )
        self.run(
            s.consortium_set_target, actor=self.alice, slug=slug,
            instrument=self.draw(st.sampled_from(["equity", "debt", "total"])), amount=usd(amount),
            tranches=tranches, effective_on=self.day,
        )  # fmt: skip

    def fx(self, slug, state):
        self.run(
            s.fx_rate_record, actor=self.bob, slug=slug, currency="EUR",
            rate=Decimal(self.draw(st.integers(5000, 15000))) / 10000, effective_on=self.on(),
        )  # fmt: skip

    def role(self, slug, state):
        self.run(
            s.partner_change_role, actor=self.alice, slug=slug,
            organisation_id=self.draw(st.sampled_from(ORGS[:3])),
            role=self.draw(st.sampled_from(["member", "founding_member", "corporate_partner"])),
            effective_on=self.day,
        )  # fmt: skip

    def stake(self, slug, state):
        asset = load_asset(self.asset).state
        holders = [Holder.consortium(x) for x in self.slugs] + [Holder.organisation("ann")]
        held = sorted(asset.holdings)
        choice = self.draw(st.sampled_from(["acquire", "acquire", "transfer", "sell"]))
        if choice == "acquire" or not held:
            room = int(100 - asset.total_percent)
            if room < 1:
                return
            self.run(
                s.stake_acquire, actor=self.alice, asset_id=self.asset,
                holder=self.draw(st.sampled_from(holders)),
                percent=Percent.of(self.draw(st.integers(1, room))), effective_on=self.day,
            )  # fmt: skip
            return
        holder = self.draw(st.sampled_from(held))
        percent = Percent.of(min(asset.holdings[holder], Decimal(self.draw(st.integers(1, 100)))))
        if choice == "transfer":
            self.run(
                s.stake_transfer, actor=self.alice, asset_id=self.asset, from_holder=holder,
                to_holder=self.draw(st.sampled_from([h for h in holders if h != holder])),
                percent=percent, effective_on=self.day,
            )  # fmt: skip
        else:
            self.run(
                s.stake_sell, actor=self.alice, asset_id=self.asset, holder=holder,
                percent=percent, effective_on=self.day,
            )  # fmt: skip

    # --- sealed periods ---
    def close(self, slug, state):
        closing = max(self.day - dt.timedelta(days=self.draw(st.integers(0, 30))), START)
        self.run(
            s.period_close, actor=self.bob, slug=slug, closing_date=closing,
            effective_on=self.day,
        )  # fmt: skip

    def reopen(self, slug, state):
        if self.run(s.period_propose_reopening, actor=self.bob, slug=slug, reason="Late",
                    effective_on=self.day):  # fmt: skip
            self.run(s.period_approve_reopening, actor=self.alice, slug=slug,
                     effective_on=self.day)  # fmt: skip

    # --- interest and equalisation ---
    def interest_rate(self, slug, state):
        self.run(
            s.interest_rate_set, actor=self.bob, slug=slug,
            kind=self.draw(st.sampled_from(["default", "default", "equalisation"])),
            rate=Decimal(self.draw(st.integers(0, 2000))) / 100, effective_on=self.on(),
        )  # fmt: skip

    def waive(self, slug, state):
        """Propose waiving some interest owed (alice) and, mostly, approve it at once: by
        bob, or by alice alone (refused)."""
        owed = sorted(c for c, v in state.late_interest.items() if v.is_owed)
        if not owed:
            return
        contribution_id = self.draw(st.sampled_from(owed))
        if state.late_interest[contribution_id].waiver_proposed_by is None:
            self.run(
                s.late_interest_waiver_propose, actor=self.alice, slug=slug,
                contribution_id=contribution_id, reason="Bank delay", effective_on=self.day,
            )  # fmt: skip
        if self.draw(st.integers(0, 3)):
            self.run(
                s.late_interest_waiver_approve,
                actor=self.draw(st.sampled_from([self.alice, self.bob, self.bob])),
                slug=slug, contribution_id=contribution_id, effective_on=self.day,
            )  # fmt: skip

    def join_late(self, slug, state):
        """A late joiner (eve): admitted, signed, equalised by alice, approved by bob."""
        issued = [c.issued_on for c in state.calls.values() if c.issued_on is not None]
        if not issued or max(issued) >= self.day:
            return  # admitted after capital was called, or not a late joiner at all
        if "eve" not in state.partners:
            s.partner_admit(
                actor=self.alice, slug=slug, organisation_id="eve", name="Eve", role="member",
                effective_on=self.day,
            )  # fmt: skip
            self.run(
                s.commitment_record, actor=self.alice, slug=slug, commitment_id=f"{slug}-eve",
                organisation_id="eve", instrument="equity", stage="signed",
                amount=usd(self.draw(st.integers(1, 10_000)) * 100), effective_on=self.day,
            )  # fmt: skip
        call_id = f"eq{next(self.ids)}"
        self.run(
            s.equalisation_call_prepare, actor=self.alice, slug=slug, call_id=call_id,
            organisation_id="eve", due_on=self.day + dt.timedelta(days=30),
            effective_on=self.day,
        )  # fmt: skip
        if self.draw(st.integers(0, 3)):
            self.run(
                s.equalisation_call_approve, actor=self.bob, slug=slug, call_id=call_id,
                effective_on=self.day,
            )  # fmt: skip

    def catch_up(self, slug, state):
        for name in NAMES:
            runner.catch_up(name, batch=self.draw(st.integers(1, 4)))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_incremental_equals_rebuild_and_as_of_now(data, alice, bob, helpers):
    scenario = Scenario(data, alice, bob)
    scenario.setup()
    seen: list[tuple[int, dict[str, object]]] = []  # what the views gave with the head at P
    for _ in range(data.draw(st.integers(5, 40))):
        scenario.step()
        if data.draw(st.integers(0, 3)) == 0:
            seen.append((head(), {slug: asof.progress_as_of(slug) for slug in scenario.slugs}))
    helpers.catch_up(batch=data.draw(st.integers(1, 6)))
    # A view bounded at a position is what the ledger held when its head was there,
    # whatever came after (back-dated events included).
    for position, then in seen:
        for slug, progress in then.items():
            assert asof.progress_as_of(slug, upto_position=position) == progress, position

    for name in NAMES:
        assert helpers.live_table(name) == helpers.fresh_rebuild(name), name

    today = scenario.day + dt.timedelta(days=data.draw(st.integers(-30, 90)))
    for slug in scenario.slugs:
        live = selectors.progress(slug)
        assert live == asof.progress_as_of(slug)
        assert live is not None
        total = live.instrument("total")
        if live.months:  # the series ends at the totals
            assert (live.months[-1].signed_minor, live.months[-1].contributed_minor) == (
                total.signed_minor,
                total.contributed_minor,
            )
        positions = selectors.positions(slug, today=today)
        assert positions == asof.positions_as_of(slug, today=today)
        for p in positions:
            assert 0 <= p.figures.unfunded_minor <= p.figures.equity_signed_minor
            assert 0 <= p.overdue_minor <= p.figures.outstanding_minor
            assert p.figures.late_interest_owed_minor >= 0  # interest and equalisation
            assert p.figures.late_interest_waived_minor >= 0
            assert 0 <= p.figures.equalisation_owed_minor <= p.figures.equalisation_called_minor
            assert p.figures.equalisation_called_minor <= p.figures.called_minor
        calls = selectors.capital_calls(slug, today=today)
        assert calls == asof.calls_as_of(slug, today=today)
        open_ = ("draft", "approved", "issued", "partly_paid")
        assert selectors.open_capital_calls(slug, today=today) == [
            c for c in calls if c.figures.status in open_
        ]
        view = asof.consortium_view_as_of(slug, today=today)  # one fold: the same figures
        assert (view.progress, view.positions) == (live, positions)
        assert view.open_calls == selectors.open_capital_calls(slug, today=today)
        # The trackers' running sums equal adding up every commitment afresh.
        tracker = ConsortiumTracker()
        for dated in consortium_history(slug):
            tracker.apply(dated)
        state = tracker.state
        assert progress_rows(state, tracker.pipeline) == progress_rows(state)
        assert position_rows(state, tracker.signed) == position_rows(state)
        # Equalisation interest passes in full from the late joiners to the earlier partners.
        paid = sum(p.equalisation_interest_paid_minor for p in state.partners.values())
        received = sum(p.equalisation_interest_received_minor for p in state.partners.values())
        assert paid == received
        facilities = selectors.facilities(slug)
        assert facilities == asof.facilities_as_of(slug) == facility_rows(state)
        assert view.facilities == facilities
        for f in facilities:
            assert f.outstanding_minor == f.drawn_minor - f.repaid_minor >= 0
            used = f.outstanding_minor if f.revolving else f.drawn_minor
            assert 0 <= f.available_minor == f.amount_minor - used
    assets = selectors.consortium_assets(scenario.slugs[0])  # the sponsor
    assert assets == asof.consortium_assets_as_of(scenario.slugs[0])
    folded = asof.consortium_view_as_of(scenario.slugs[0]).state
    assert assets == asof.consortium_assets_as_of(scenario.slugs[0], state=folded)
    assert [o.asset.asset_id for o in assets] == [scenario.asset]
    # Every seal still matches the ledger (sealed periods), reopened ones included.
    assert [f.problems for f in check_seals()] == [() for _ in check_seals()]
    ownership = selectors.ownership(scenario.asset)
    assert ownership == asof.ownership_as_of(scenario.asset)
    assert ownership is not None
    assert ownership.asset.stakes_percent <= 100
    assert ownership.asset.look_through_percent <= ownership.asset.stakes_percent
    assert sum(r.total_percent for r in ownership.look_through) <= 100
    # Rounded for display only, and together: the rows sum to the asset's figure.
    assert sum(r.total_percent for r in ownership.look_through) == (
        ownership.asset.look_through_percent
    )
