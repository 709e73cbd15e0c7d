"""Request and response serializers bind shallow copies of their flat fields: nothing
leaks between requests, and a class with nested fields keeps DRF's deep copy."""

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest

from consortium.api import write_serializers as ws

GOOD = {
    "organisation_id": "microsoft",
    "instrument": "equity",
    "amount": "1000.00",
    "currency": "USD",
    "stage": "signed",
    "effective_on": "2026-01-01",
}


def test_each_instance_binds_its_own_fields_to_itself():
    first, second = ws.CommitmentIn(data=GOOD), ws.CommitmentIn(data=GOOD)
    for name in GOOD:
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].parent is first and second.fields[name].parent is second
        assert first.fields[name].field_name == name
    declared = ws.CommitmentIn._declared_fields["amount"]
    assert getattr(declared, "parent", None) is None  # the class's own stays unbound
    assert getattr(declared, "field_name", None) is None


def test_a_refused_body_does_not_change_what_the_next_one_is_told():
    bad = ws.CommitmentIn(data={**GOOD, "amount": "-1", "stage": "won", "currency": "XXX"})
    assert not bad.is_valid()
    assert set(bad.errors) == {"amount", "stage", "currency"}
    good = ws.CommitmentIn(data=GOOD)
    assert good.is_valid(), good.errors
    assert good.validated_data["amount"] == "1000.00"
    again = ws.CommitmentIn(data={**GOOD, "organisation_id": "not a slug!"})
    assert not again.is_valid() and set(again.errors) == {"organisation_id"}


@pytest.mark.parametrize("cls", [ws.TargetIn])
def test_a_class_with_nested_fields_keeps_the_deep_copy(cls):
    first, second = cls(), cls()
    nested = [name for name, f in cls._declared_fields.items() if hasattr(f, "child")]
    assert nested
    for name in nested:
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].child is not second.fields[name].child
        assert first.fields[name].child.parent is first.fields[name]


def _commitment(commitment_id: str, amount: str) -> SimpleNamespace:
    return SimpleNamespace(
        commitment_id=commitment_id,
        organisation_id="microsoft",
        instrument="equity",
        amount=SimpleNamespace(amount=amount, currency="USD"),
        stage="signed",
        effective_on=dt.date(2026, 1, 1),
    )


def test_each_answer_renders_its_own_command_and_context():
    first = ws.CommitmentOut(_commitment("c-1", "10.00"), context={"consortium": "aip"})
    second = ws.CommitmentOut(_commitment("c-2", "20.00"), context={"consortium": "stargate"})
    assert dict(second.data) == {
        "consortium": "stargate",
        "commitment_id": "c-2",
        "organisation_id": "microsoft",
        "instrument": "equity",
        "amount": "20.00",
        "currency": "USD",
        "stage": "signed",
        "effective_on": "2026-01-01",
    }
    assert dict(first.data) == {
        **second.data,
        "consortium": "aip",
        "commitment_id": "c-1",
        "amount": "10.00",
    }
    for name, field in first.fields.items():
        assert field is not second.fields[name] and field.parent is first
    declared = ws.CommitmentOut._declared_fields
    assert getattr(declared["stage"], "parent", None) is None  # the class's own stays unbound
    assert declared["stage"].source is None  # binding names the copy's source, not its own
    assert declared["amount"].source == "amount.amount"


def test_an_answer_with_nested_fields_keeps_the_deep_copy():
    first: Any = ws.TargetOut().fields["tranches"]
    second: Any = ws.TargetOut().fields["tranches"]
    assert first.child is not second.child
    assert first.child.parent is first
