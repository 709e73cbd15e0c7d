"""Sealed periods in the workspace: finance closes a period in its form; a back-dated
form into the closed period is refused in words naming the period and appends nothing;
reopening needs a second person; a reversal may name the position it corrects."""

import pytest

from tests.consortium.admin.commands_support import browser_for, submit, world  # noqa: F401

pytestmark = pytest.mark.django_db

MARCH_END = "2025-03-31"
APRIL = "2025-04-05"


def close_march(browser, submit):  # noqa: F811
    response, appended = submit(browser, "period-close", closing_date=MARCH_END, effective_on=APRIL)
    assert [e.type for e in appended] == ["PeriodClosed"], response.context["form"].errors
    return appended[0]


def test_a_back_dated_form_into_a_closed_period_is_refused_and_appends_nothing(
    world,  # noqa: F811
    browser_for,  # noqa: F811
    submit,  # noqa: F811
):
    finance = browser_for("finance")
    seal = close_march(finance, submit)
    assert seal.data["closed_by"] == finance.user.username
    response, appended = submit(
        finance,
        "contribution-receive",
        contribution_id="c-late",
        call_id="call-1",
        organisation_id="microsoft",
        amount="10",
        bank_reference="LATE",
        received_on="2025-03-20",
    )
    assert appended == []
    assert response.status_code == 200
    words = (
        f"AIP's books are closed up to 31 March 2025 (sealed at position "
        f"{seal.data['position']}); record the correction in the next open period, dated "
        "1 April 2025 or later."
    )
    assert words in " ".join(response.context["form"].errors["received_on"])
    assert "books are closed up to 31 March 2025" in response.content.decode().replace(
        "&#x27;", "'"
    )


def test_reopening_in_the_forms_needs_a_second_person(
    world,  # noqa: F811
    browser_for,  # noqa: F811
    submit,  # noqa: F811
):
    first, second = browser_for("finance"), browser_for("finance")
    close_march(first, submit)
    _, [proposed] = submit(
        first, "period-propose-reopening", reason="A late bank statement", effective_on=APRIL
    )
    assert proposed.type == "PeriodReopenProposed"
    response, appended = submit(first, "period-approve-reopening", effective_on=APRIL)
    assert appended == []
    assert any("a second person must approve it" in e for e in response.context["form"].top_errors)
    _, [approved] = submit(second, "period-approve-reopening", effective_on=APRIL)
    assert approved.type == "PeriodReopened"
    assert approved.data["approved_by"] == second.user.username


def test_a_reversal_form_may_name_the_position_it_corrects(
    world,  # noqa: F811
    browser_for,  # noqa: F811
    submit,  # noqa: F811
):
    finance = browser_for("finance")
    close_march(finance, submit)
    _, [reversed_] = submit(
        finance,
        "contribution-reverse",
        contribution_id="c-1",
        reason="Returned by the bank",
        effective_on=APRIL,
        corrects_position="5",
    )
    assert reversed_.data["corrects_position"] == 5


def test_the_dashboard_shows_the_period_calendar(world, browser_for, submit):  # noqa: F811
    from django.urls import reverse

    from ledger.projections import runner

    finance = browser_for("finance")
    seal = close_march(finance, submit)
    submit(finance, "period-propose-reopening", reason="A late bank statement", effective_on=APRIL)
    runner.catch_up_all()
    page = finance.get(reverse("admin:workspace-consortium", args=["aip"]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-closed="2025-03-31"' in html
    assert f"position {seal.data['position']}" in html
    assert seal.data["chain_hash"][:16] in html
    assert 'data-open="2025-04-01"' in html and "From 2025-04-01" in html
    assert "reopening the period closed up to 2025-03-31: A late bank statement" in html
    # As known before the close: every date open, no seal.
    before = finance.get(
        reverse("admin:workspace-consortium", args=["aip"]), {"known_at": str(seal.position - 1)}
    )
    assert 'data-closed="' not in before.content.decode()
