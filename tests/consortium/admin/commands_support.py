"""Fixtures for the command forms' tests (imported by each ``test_commands*`` module,
not a conftest, so that other rooms' fixtures live beside them without a shared file):
signed-in browsers per role, and a consortium with something in every state a form
picks from.

``browser_for(role, consortium=None, *, username=None)`` is a Django test ``Client``
signed in as a fresh staff user (or the one named) granted ``role`` (``deal_team``,
``finance``, ``auditor``; ``partner:<org>`` users are not staff), globally or in
``consortium``. ``world`` builds 'aip' (see its docstring) and a second consortium 'sg'.
"""

import datetime as dt
import itertools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from consortium import services as s
from consortium.domain.money import Money, Percent
from consortium.domain.values import Holder
from consortium.models import RoleGrant
from ledger import store
from ledger.store import RecordedEvent
from tests.consortium.conftest import FORMED, usd


@pytest.fixture
def browser_for(db) -> Callable[..., Client]:
    counter = itertools.count(1)

    def make(role: str, consortium: str | None = None, *, username: str | None = None) -> Client:
        kind, _, organisation = role.partition(":")
        name = username or f"{kind}-{next(counter)}"
        user, _ = get_user_model().objects.get_or_create(username=name)
        user.is_staff = kind != "partner"
        user.save()
        RoleGrant.objects.get_or_create(
            user=user, role=kind, organisation_id=organisation, consortium=consortium or ""
        )
        browser = Client()
        browser.force_login(user)
        browser.user = user  # type: ignore[attr-defined]
        return browser

    return make


def on(month: int, day: int, year: int = 2025) -> dt.date:
    return dt.date(year, month, day)


@pytest.fixture
def world(formed, alice, bob) -> str:
    """'aip' (formed 2025-01-06, USD): partners mgx (600.00 signed equity as aip-mgx,
    50.00 soft circled as aip-mgx-2), microsoft (400.00 signed as aip-microsoft), nvidia
    (technical advisor), banks (lender); an EUR rate of 1.1; call-1 issued (500.00: mgx
    300, microsoft 200) with mgx's contribution c-1 of 100.00; call-2 a draft and call-3
    approved (both prepared by alice; call-3 approved by bob); facility f-1 from banks
    (1,000.00 USD, non-revolving, 400.00 drawn as d-1); asset dc-1 sponsored by aip,
    held 60 % by aip and 20 % by microsoft; proceeds p-0 (200.00) from dc-1, distribution
    dist-1 a draft (40.00) and dist-2 approved (20.00), both prepared by alice. Also 'sg',
    with partner openai."""
    formed()
    slug = "aip"
    for org, role in (("nvidia", "technical_advisor"), ("banks", "lender")):
        s.partner_admit(
            actor=alice,
            slug=slug,
            organisation_id=org,
            name=org.title(),
            role=role,
            effective_on=FORMED,
        )
    s.fx_rate_record(actor=bob, slug=slug, currency="EUR", rate=Decimal("1.1"), effective_on=FORMED)
    s.commitment_record(
        actor=alice,
        slug=slug,
        commitment_id="aip-mgx-2",
        organisation_id="mgx",
        instrument="equity",
        amount=usd("50.00"),
        stage="soft_circled",
        effective_on=FORMED,
    )
    s.capital_call_prepare(
        actor=alice,
        slug=slug,
        call_id="call-1",
        amount=usd("500.00"),
        due_on=on(3, 1),
        purpose="Land",
        effective_on=on(2, 1),
    )
    s.capital_call_approve(actor=bob, slug=slug, call_id="call-1", effective_on=on(2, 2))
    s.capital_call_issue(actor=bob, slug=slug, call_id="call-1", effective_on=on(2, 3))
    s.contribution_receive(
        actor=bob,
        slug=slug,
        contribution_id="c-1",
        call_id="call-1",
        organisation_id="mgx",
        amount=usd("100.00"),
        bank_reference="MGX-1",
        received_on=on(2, 10),
    )
    s.capital_call_prepare(
        actor=alice,
        slug=slug,
        call_id="call-2",
        amount=usd("100.00"),
        due_on=on(6, 1),
        purpose="Power",
        effective_on=on(4, 1),
    )
    s.capital_call_prepare(
        actor=alice,
        slug=slug,
        call_id="call-3",
        amount=usd("50.00"),
        due_on=on(6, 1),
        purpose="Fees",
        effective_on=on(4, 1),
    )
    s.capital_call_approve(actor=bob, slug=slug, call_id="call-3", effective_on=on(4, 2))
    s.facility_arrange(
        actor=alice,
        slug=slug,
        facility_id="f-1",
        lender="banks",
        amount=usd("1000.00"),
        maturity_on=on(12, 31, 2030),
        revolving=False,
        effective_on=on(1, 10),
    )
    s.facility_draw(
        actor=bob,
        slug=slug,
        facility_id="f-1",
        draw_id="d-1",
        amount=usd("400.00"),
        effective_on=on(1, 20),
    )
    s.asset_register(
        actor=alice,
        asset_id="dc-1",
        sponsor=slug,
        kind="data_centre",
        name="Campus One",
        location="Loudoun, VA",
        capacity_mw=Decimal("100"),
        estimated_cost=usd("900.00"),
        effective_on=on(1, 15),
    )
    for holder, percent in (
        (Holder.consortium(slug), "60"),
        (Holder.organisation("microsoft"), "20"),
    ):
        s.stake_acquire(
            actor=alice,
            asset_id="dc-1",
            holder=holder,
            percent=Percent.of(percent),
            effective_on=on(1, 16),
        )
    # --- distributions: 200.00 of proceeds; dist-1 a draft (40.00) and dist-2 approved
    # (20.00), both prepared by alice, all to mgx (the only partner who contributed) ---
    s.proceeds_record(
        actor=bob,
        slug=slug,
        proceeds_id="p-0",
        asset_id="dc-1",
        kind="income",
        amount=usd("200.00"),
        received_on=on(4, 20),
    )
    for distribution_id, amount in (("dist-1", "40.00"), ("dist-2", "20.00")):
        s.distribution_prepare(
            actor=alice,
            slug=slug,
            distribution_id=distribution_id,
            amount=usd(amount),
            kind="income",
            purpose="Rent",
            effective_on=on(4, 21),
        )
    s.distribution_approve(actor=bob, slug=slug, distribution_id="dist-2", effective_on=on(4, 22))
    s.consortium_form(
        actor=alice, slug="sg", name="Stargate", base_currency="USD", formed_on=FORMED
    )
    s.partner_admit(
        actor=alice,
        slug="sg",
        organisation_id="openai",
        name="OpenAI",
        role="member",
        effective_on=FORMED,
    )
    return slug


def eur(amount: str) -> Money:
    return Money.of(Decimal(amount), "EUR")


Sent = tuple[Any, list[RecordedEvent]]


@pytest.fixture
def submit() -> Callable[..., Sent]:
    """``submit(browser, command, where="aip", asset=None, **fields)``: open the form
    (GET; ``where`` None is the consortium formation form), fill ``fields`` over what it
    rendered (its token, version, suggestions), POST it; returns the response and the
    events appended meanwhile."""

    def send(
        browser: Client,
        command: str,
        where: str | None = "aip",
        asset: str | None = None,
        **fields: Any,
    ) -> Sent:
        url = form_url(command, where, asset)
        form = browser.get(url).context["form"]
        data = {name: form.initial.get(name, field.initial) for name, field in form.fields.items()}
        data = {name: value for name, value in data.items() if value is not None}
        data.update(fields)
        head = store.head()
        response = browser.post(url, {k: _text(v) for k, v in data.items()})
        return response, store.read_all(after=head)

    return send


def form_url(command: str, slug: str | None = "aip", asset: str | None = None) -> str:
    if slug is None:
        return reverse("admin:workspace-consortium-form")
    url = reverse("admin:workspace-command", args=[slug, command])
    return f"{url}?asset_id={asset}" if asset else url


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else ""
    return value.isoformat() if isinstance(value, dt.date) else str(value)
