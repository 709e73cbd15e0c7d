"""The database holds the interest and equalisation columns of a position within their
bounds, whatever the Python does: never negative, equalisation owed within called."""

import pytest
from django.db import IntegrityError, transaction

from consortium.models import PartnerPositionRow

pytestmark = pytest.mark.django_db


def row(**figures: int) -> PartnerPositionRow:
    zero = {
        f.name: 0 for f in PartnerPositionRow._meta.concrete_fields if f.name.endswith("_minor")
    }
    return PartnerPositionRow(
        generation=1, position=1, consortium="aip", organisation_id="mgx", name="MGX",
        role="member", is_active=True, currency="USD", equity_share_percent=None,
        **{**zero, **figures},
    )  # fmt: skip


@pytest.mark.parametrize(
    "figures",
    [
        {"late_interest_owed_minor": -1},
        {"late_interest_waived_minor": -1},
        {"equalisation_called_minor": 100, "equalisation_owed_minor": 101},
        {"equalisation_owed_minor": -1},
        {"equalisation_interest_paid_minor": -1},
        {"equalisation_interest_received_minor": -1},
    ],
)
def test_out_of_bounds_interest_figures_are_refused_by_the_database(figures):
    with pytest.raises(IntegrityError), transaction.atomic():
        row(**figures).save()


def test_figures_within_bounds_are_stored():
    row(late_interest_owed_minor=67, equalisation_called_minor=2500,
        equalisation_owed_minor=2500).save()  # fmt: skip
    assert PartnerPositionRow.objects.get().late_interest_owed_minor == 67
