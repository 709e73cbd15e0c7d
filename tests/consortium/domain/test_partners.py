"""Consortium formation, partners and roles; rule 3 (technical advisors commit nothing)."""

from __future__ import annotations

from datetime import date

from consortium.domain.commands import (
    AdvanceCommitmentStage,
    ArrangeDebtFacility,
    ChangePartnerRole,
    FormConsortium,
    WithdrawPartner,
)
from consortium.domain.errors import (
    AdvisorCannotCommit,
    AlreadyExists,
    InvalidCurrency,
    InvalidInput,
    InvalidTransition,
    NotAPartner,
    NotFound,
    PartnerHasOpenCommitments,
)
from consortium.domain.events import CommitmentRecorded, PartnerRoleChanged

MARCH = date(2025, 3, 20)


def test_nvidia_as_technical_advisor_cannot_commit_until_it_becomes_a_member(aip, make) -> None:
    # Given Nvidia is a technical advisor of the AIP
    # When it tries to record an equity commitment, then it is refused and nothing appended
    aip.refuses(
        make.commit("c-nvidia", "nvidia", "500000000", on=MARCH),
        AdvisorCannotCommit,
        "Nvidia is a technical advisor and cannot hold a commitment",
    )
    # When its role changes to member, then the same commitment is accepted
    aip.given(ChangePartnerRole("nvidia", "member", MARCH))
    events = aip.when(make.commit("c-nvidia", "nvidia", "500000000", on=MARCH))
    assert isinstance(events[0], CommitmentRecorded)
    assert aip.state.commitments["c-nvidia"].stage == "signed"


def test_a_partner_holding_commitments_cannot_become_a_technical_advisor(aip) -> None:
    aip.refuses(
        ChangePartnerRole("mgx", "technical_advisor", MARCH),
        AdvisorCannotCommit,
        r"MGX holds capital commitments or facilities \(c-mgx\)",
    )


def test_a_technical_advisor_cannot_lend(aip, make) -> None:
    aip.refuses(
        ArrangeDebtFacility("f-1", "nvidia", make.usd("1000000"), date(2030, 1, 1), False, MARCH),
        AdvisorCannotCommit,
        "cannot lend",
    )


def test_role_changes_are_kept_as_history(aip) -> None:
    events = aip.when(ChangePartnerRole("xai", "corporate_partner", MARCH))
    assert events == [PartnerRoleChanged("xai", "corporate_partner")]
    assert aip.state.partners["xai"].role_history == [
        (date(2025, 3, 19), "member"),
        (MARCH, "corporate_partner"),
    ]
    aip.refuses(
        ChangePartnerRole("xai", "corporate_partner", MARCH), InvalidTransition, "already a"
    )


def test_partners_are_admitted_once_with_a_known_role(aip, make) -> None:
    aip.refuses(make.admit("mgx", "MGX"), AlreadyExists, "MGX is already a partner")
    aip.refuses(make.admit("oracle", "Oracle", "investor"), InvalidInput, "role must be one of")
    aip.refuses(make.admit("Oracle Corp", "Oracle"), InvalidInput, "lowercase slug")
    aip.refuses(make.admit("oracle", "  "), InvalidInput, "name must not be blank")


def test_commands_need_a_formed_consortium(empty, make) -> None:
    empty.refuses(make.admit("mgx", "MGX"), NotFound, "has not been formed yet")


def test_a_consortium_is_formed_once_in_a_known_currency(empty, make) -> None:
    empty.refuses(
        FormConsortium("AIP", "aip", "XXX", date(2024, 9, 17)), InvalidCurrency, "ISO 4217"
    )
    empty.refuses(FormConsortium("AIP", "A I P", "USD", date(2024, 9, 17)), InvalidInput, "slug")
    empty.given(make.form())
    empty.refuses(make.form(), AlreadyExists, "already formed on 2024-09-17")


def test_a_partner_withdraws_only_once_nothing_uncalled_remains(aip, make) -> None:
    aip.refuses(
        WithdrawPartner("mgx", MARCH), PartnerHasOpenCommitments, r"uncalled commitments \(c-mgx\)"
    )
    aip.given(AdvanceCommitmentStage("c-mgx", "withdrawn", MARCH))
    aip.when(WithdrawPartner("mgx", MARCH, "Exited the partnership"))
    assert not aip.state.partners["mgx"].is_active
    aip.refuses(make.commit("c-mgx-2", "mgx", "100", on=MARCH), NotAPartner, "MGX withdrew from")
    # Re-admission is a new fact; the old history stays.
    aip.when(make.admit("mgx", "MGX", on=date(2025, 6, 1)))
    assert aip.state.partners["mgx"].commitment_ids == ["c-mgx"]


def test_a_partner_that_still_owes_on_a_call_cannot_withdraw(aip, make) -> None:
    from consortium.domain.commands import AmendCommitment

    aip.given(*make.called("call-1", "800000000"))
    aip.given(AmendCommitment("c-mgx", make.usd("200000000"), date(2025, 4, 5)))
    aip.refuses(
        WithdrawPartner("mgx", date(2025, 4, 5)),
        PartnerHasOpenCommitments,
        r"MGX still owes USD 200,000,000.00 on issued capital calls",
    )
    aip.given(make.pay("p-1", "call-1", "mgx", "200000000", on=date(2025, 4, 6)))
    aip.when(WithdrawPartner("mgx", date(2025, 4, 6)))


def test_an_unknown_partner_is_named_in_the_refusal(aip, make) -> None:
    aip.refuses(make.commit("c-x", "oracle", "1"), NotAPartner, "'oracle' is not a partner")
