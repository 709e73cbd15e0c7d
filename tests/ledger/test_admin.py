"""The ledger's admin: deal teams can browse events, never add, change or delete them."""

import pytest
from django.contrib.auth import get_user_model

from ledger.store import NewEvent, append

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_superuser(
        "auditor", "auditor@example.com", "pw-long-enough-123"
    )
    client.force_login(user)
    append("consortium-aip", [NewEvent("ConsortiumFormed", {"name": "AIP"})], expected_version=0)
    append(
        "consortium-stargate",
        [NewEvent("ConsortiumFormed", {"name": "Stargate"})],
        expected_version=0,
    )
    append(
        "consortium-aip",
        [NewEvent("PartnerAdmitted", {"organisation_id": "mgx"})],
        expected_version=1,
    )
    return client


def test_events_are_listed_by_position_and_filterable(staff_client):
    page = staff_client.get("/admin/ledger/event/")
    assert page.status_code == 200
    body = page.content.decode()
    assert body.index("ConsortiumFormed") < body.index("PartnerAdmitted")

    by_type = staff_client.get("/admin/ledger/event/?type__exact=PartnerAdmitted").content.decode()
    assert "PartnerAdmitted" in by_type and "consortium-stargate" not in by_type


def test_a_streams_full_history(staff_client):
    page = staff_client.get("/admin/ledger/event/?stream=consortium-aip").content.decode()
    assert "consortium-aip" in page and "consortium-stargate" not in page
    assert "2 events" in page or "2 results" in page


def test_an_event_detail_is_read_only(staff_client):
    page = staff_client.get("/admin/ledger/event/1/change/")
    assert page.status_code == 200
    assert b"&quot;name&quot;: &quot;AIP&quot;" in page.content
    assert b'name="_save"' not in page.content


def test_no_add_change_or_delete(staff_client):
    assert staff_client.get("/admin/ledger/event/add/").status_code == 403
    assert staff_client.post("/admin/ledger/event/1/change/", {"type": "X"}).status_code == 403
    assert staff_client.get("/admin/ledger/event/1/delete/").status_code == 403
