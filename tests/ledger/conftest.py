"""Fixtures shared by the ledger's tests."""

import datetime as dt
from decimal import Decimal

import pytest

from ledger.store import NewEvent, append, head_state


@pytest.fixture
def ledger_of_five() -> tuple[int, str]:
    """Five committed events over two streams; the head's position and hash."""
    for number in range(5):
        append(
            f"consortium-{number % 2}",
            [
                NewEvent(
                    "CommitmentRecorded",
                    {"amount": Decimal(f"{number}000000.00"), "org": "mgx"},
                    effective_on=dt.date(2025, 1, 1 + number),
                )
            ],
            expected_version=None,
            metadata={"actor": "alice"},
        )
    return head_state()
