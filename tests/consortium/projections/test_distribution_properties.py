"""Property, with distributions: for random command sequences (test_properties' scenario
plus proceeds, distributions with recallable parts, and the calls that recall them), the
projections maintained incrementally equal a rebuild and the as-of fold; every
distribution's shares sum exactly to its amount with each recallable part within its
share; and unfunded stays within 0 and signed + recallable, live and as of any date."""

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consortium import services as s
from consortium.domain.allocation import allocate_pro_rata
from consortium.domain.money import Percent
from consortium.domain.positions import partner_position, total_unfunded_minor
from consortium.domain.values import Holder
from consortium.projections import NAMES, asof, selectors
from consortium.projections.figures import ConsortiumTracker, position_rows, progress_rows
from consortium.streams import consortium_history, load_consortium
from ledger.store import head
from tests.consortium.projections.test_properties import ORGS, START, Scenario, usd

pytestmark = pytest.mark.django_db


class WithDistributions(Scenario):
    """The scenario's steps, plus money coming back; calls come more often, so recallable
    capital is recalled."""

    def setup(self):
        super().setup()
        for slug in self.slugs:
            s.stake_acquire(
                actor=self.alice, asset_id=self.asset, holder=Holder.consortium(slug),
                percent=Percent.of("10"), effective_on=START,
            )  # fmt: skip

    def step(self):
        if self.draw(st.integers(0, 2)) == 0:
            self.day = min(
                self.day + dt.timedelta(days=self.draw(st.integers(0, 25))), dt.date.today()
            )
            slug = self.draw(st.sampled_from(self.slugs))
            state = load_consortium(slug).state
            action = self.draw(
                st.sampled_from(["proceeds", "distribute", "distribute", "call", "pay", "cycle"])
            )
            getattr(self, action)(slug, state)
        else:
            super().step()

    def proceeds(self, slug, state):
        self.run(
            s.proceeds_record, actor=self.bob, slug=slug, proceeds_id=f"p{next(self.ids)}",
            asset_id=self.asset, kind=self.draw(st.sampled_from(["income", "sale"])),
            amount=usd(self.draw(st.integers(1, 100_000)) * 100), received_on=self.on(),
        )  # fmt: skip

    def cycle(self, slug, state):
        """Call and pay capital, receive proceeds, distribute part of it recallable, and
        call everything unfunded again: the recallable parts are recalled."""
        self.full_call(slug)
        state = load_consortium(slug).state
        for call in state.calls.values():
            for org in call.allocations:
                if call.status == "issued" and call.owed_minor(org) > 0:
                    self.run(
                        s.contribution_receive, actor=self.bob, slug=slug,
                        contribution_id=f"k{next(self.ids)}", call_id=call.call_id,
                        organisation_id=org, amount=usd(call.owed_minor(org)),
                        bank_reference="REF", received_on=max(self.day, call.issued_on),
                    )  # fmt: skip
        self.proceeds(slug, state)
        state = load_consortium(slug).state
        available = state.proceeds_minor - state.distributions_minor
        weights = {o: p.contributed_minor for o, p in state.partners.items() if p.contributed_minor}
        if available < 1 or not weights:
            return
        amount = self.draw(st.integers(1, available))
        shares = allocate_pro_rata(amount, weights)
        recallable = {
            org: usd(self.draw(st.integers(1, share)))
            for org, share in shares.items()
            if share > 0 and self.draw(st.booleans())
        }
        distribution_id = f"dist{next(self.ids)}"
        self.run(
            s.distribution_prepare, actor=self.alice, slug=slug,
            distribution_id=distribution_id, amount=usd(amount), kind="capital",
            recallable=recallable, purpose="Sale", effective_on=self.day,
        )  # fmt: skip
        for step in (s.distribution_approve, s.distribution_pay):
            self.run(
                step, actor=self.bob, slug=slug, distribution_id=distribution_id,
                effective_on=self.day,
            )  # fmt: skip
        if self.draw(st.booleans()):
            self.full_call(slug)

    def full_call(self, slug):
        """A call of part or all of the unfunded amount (recallable included), issued."""
        unfunded = total_unfunded_minor(load_consortium(slug).state)
        if unfunded < 1:
            return
        call_id = f"call{next(self.ids)}"
        self.run(
            s.capital_call_prepare, actor=self.alice, slug=slug, call_id=call_id,
            amount=usd(self.draw(st.sampled_from([unfunded, self.draw(st.integers(1, unfunded))]))),
            due_on=self.day + dt.timedelta(days=30), purpose="Capex", effective_on=self.day,
        )  # fmt: skip
        for step in (s.capital_call_approve, s.capital_call_issue):
            self.run(step, actor=self.bob, slug=slug, call_id=call_id, effective_on=self.day)

    def distribute(self, slug, state):
        open_ = sorted(d for d, v in state.distributions.items() if v.status != "paid")
        if open_ and self.draw(st.integers(0, 3)) > 0:
            distribution = state.distributions[self.draw(st.sampled_from(open_))]
            step = s.distribution_approve if distribution.status == "draft" else s.distribution_pay
            self.run(
                step, actor=self.bob, slug=slug, distribution_id=distribution.distribution_id,
                effective_on=self.day,
            )  # fmt: skip
            return
        available = state.proceeds_minor - state.distributions_minor
        if available < 1:
            return
        amount = self.draw(st.integers(1, available + 10))  # sometimes too much: refused
        recallable = {
            org: usd(self.draw(st.integers(1, max(amount, 1))))
            for org in self.draw(st.lists(st.sampled_from(ORGS[:3]), max_size=3, unique=True))
        }  # sometimes above a share, or for a partner with none: refused
        self.run(
            s.distribution_prepare, actor=self.alice, slug=slug,
            distribution_id=f"dist{next(self.ids)}", amount=usd(amount),
            kind=self.draw(st.sampled_from(["income", "capital"])),
            basis=self.draw(st.sampled_from(["contributed", "contributed", "commitment"])),
            recallable=recallable, purpose="Proceeds", effective_on=self.on(),
        )  # fmt: skip


def check_bounds(state) -> None:
    for org, partner in state.partners.items():
        figures = partner_position(state, org).equity
        signed = figures.signed_equity.to_minor()
        assert partner.recallable_minor >= 0 and partner.recalled_minor >= 0
        assert 0 <= figures.unfunded.to_minor() <= signed + partner.recallable_minor, org


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_with_distributions_incremental_equals_rebuild_and_as_of(data, alice, bob, helpers):
    scenario = WithDistributions(data, alice, bob)
    scenario.setup()
    seen: list[tuple[int, dict[str, object]]] = []
    for _ in range(data.draw(st.integers(10, 50))):
        scenario.step()
        for slug in scenario.slugs:  # the bounds hold after every step
            check_bounds(load_consortium(slug).state)
        if data.draw(st.integers(0, 3)) == 0:
            seen.append((head(), {slug: asof.positions_as_of(slug) for slug in scenario.slugs}))
    helpers.catch_up(batch=data.draw(st.integers(1, 6)))
    for position, then in seen:
        for slug, positions in then.items():
            assert asof.positions_as_of(slug, upto_position=position) == positions, position
    for name in NAMES:
        assert helpers.live_table(name) == helpers.fresh_rebuild(name), name

    for slug in scenario.slugs:
        assert selectors.progress(slug) == asof.progress_as_of(slug)
        positions = selectors.positions(slug, today=scenario.day)
        assert positions == asof.positions_as_of(slug, today=scenario.day)
        for p in positions:
            f = p.figures
            assert 0 <= f.unfunded_minor <= f.equity_signed_minor + f.recallable_minor
            assert f.net_invested_minor == f.contributed_minor - f.distributed_capital_minor
        state = load_consortium(slug).state
        for distribution in state.distributions.values():
            assert sum(distribution.shares.values()) == distribution.amount_minor
            for org, part in distribution.recallable.items():
                assert 0 < part <= distribution.shares[org]
        # Distributed in total is what the paid distributions' shares add up to.
        paid = sum(d.amount_minor for d in state.distributions.values() if d.status == "paid")
        assert sum(p.figures.distributed_minor for p in positions) == paid
        progress = selectors.progress(slug)
        assert progress is not None
        assert progress.instrument("equity").distributed_minor == paid
        # Any effective date's fold keeps the bounds (a recall never shows without the
        # recallable capital it recalled).
        for _ in range(3):
            on = START + dt.timedelta(days=data.draw(st.integers(0, 800)))
            check_bounds(asof.consortium_as_of(slug, effective_on=on))
        tracker = ConsortiumTracker()
        for dated in consortium_history(slug):
            tracker.apply(dated)
        assert progress_rows(tracker.state, tracker.pipeline) == progress_rows(tracker.state)
        assert position_rows(tracker.state, tracker.signed) == position_rows(tracker.state)
