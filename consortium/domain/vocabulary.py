"""The closed word lists of DOMAIN.md: roles, instruments, stages, statuses, kinds."""

from __future__ import annotations

from typing import Final, Literal, get_args

Role = Literal["founding_member", "member", "technical_advisor", "lender", "corporate_partner"]
Instrument = Literal["equity", "asset_contribution", "corporate_partnership"]
TargetInstrument = Literal["equity", "debt", "total"]
Stage = Literal["indicated", "soft_circled", "signed", "withdrawn"]
CallStatus = Literal["draft", "approved", "issued", "cancelled"]
AssetKind = Literal["data_centre", "energy_facility"]
HolderKind = Literal["consortium", "organisation"]

ROLES: Final[tuple[Role, ...]] = get_args(Role)
INSTRUMENTS: Final[tuple[Instrument, ...]] = get_args(Instrument)
TARGET_INSTRUMENTS: Final[tuple[TargetInstrument, ...]] = get_args(TargetInstrument)
STAGES: Final[tuple[Stage, ...]] = get_args(Stage)
CALL_STATUSES: Final[tuple[CallStatus, ...]] = get_args(CallStatus)
ASSET_KINDS: Final[tuple[AssetKind, ...]] = get_args(AssetKind)
HOLDER_KINDS: Final[tuple[HolderKind, ...]] = get_args(HolderKind)

TECHNICAL_ADVISOR: Final[Role] = "technical_advisor"
# Pipeline order; `withdrawn` is reachable from any stage and is not in the order.
STAGE_RANK: Final[dict[Stage, int]] = {"indicated": 0, "soft_circled": 1, "signed": 2}


# --- distributions ---
ProceedsKind = Literal["income", "sale"]
DistributionKind = Literal["income", "capital"]
DistributionBasis = Literal["contributed", "commitment"]
DistributionStatus = Literal["draft", "approved", "paid"]
PROCEEDS_KINDS: Final[tuple[ProceedsKind, ...]] = get_args(ProceedsKind)
DISTRIBUTION_KINDS: Final[tuple[DistributionKind, ...]] = get_args(DistributionKind)
DISTRIBUTION_BASES: Final[tuple[DistributionBasis, ...]] = get_args(DistributionBasis)
DISTRIBUTION_STATUSES: Final[tuple[DistributionStatus, ...]] = get_args(DistributionStatus)


def label(word: str) -> str:
    """Turn a vocabulary word into message text: "technical_advisor" -> "technical advisor"."""
    return word.replace("_", " ")
