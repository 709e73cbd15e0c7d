"""Request serializers bind shallow copies of their flat fields: nothing leaks between
requests, and a class with nested fields keeps DRF's deep copy."""

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
