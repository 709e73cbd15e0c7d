"""Every process cache is registered, filled by real work, and emptied by one call
(``ledger.caches``), or by noticing that the ledger is not the one it mirrored."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.urls import get_resolver
from rest_framework.test import APIClient

from consortium import services as s
from consortium.api.access import digest, new_key
from consortium.models import ApiClient, RoleGrant
from consortium.streams import load_asset, load_consortium
from ledger import caches, store
from ledger.projections import runner
from tests.consortium.conftest import FORMED

pytestmark = pytest.mark.django_db

# Every cache of this process's own code; helper modules may register more (the store's).
EXPECTED = {
    "decoded-events",
    "projection-stream-states",
    "rendered-answers",
    "rendered-events",
    "stream-states-commands",
    "stream-states-readers",
}


def sizes() -> dict[str, int]:
    """What each registered cache that can count its entries holds now."""
    return {entry.name: entry.size() for entry in caches.registered() if entry.size is not None}


@pytest.fixture
def filled(formed, alice) -> dict[str, int]:
    """Every cache filled the way a process fills it: commands, reads, a catch-up, API reads."""
    get_resolver().url_patterns  # noqa: B018 - load every view, as a web process does
    formed()
    s.partner_admit(
        actor=alice,
        slug="aip",
        organisation_id="xai",
        name="xAI",
        role="member",
        effective_on=FORMED,
    )
    load_consortium("aip")
    load_asset("nowhere")
    runner.catch_up_all()
    auditor = auditor_client()
    assert auditor.get("/api/v1/consortia/aip/progress/").status_code == 200
    assert auditor.get("/api/v1/events/").status_code == 200
    held = sizes()
    assert set(held) >= EXPECTED, f"not registered: {EXPECTED - set(held)}"
    empty = {name for name in EXPECTED if held[name] == 0}
    assert not empty, f"the work above filled none of {sorted(empty)}"
    return held


def test_every_registered_cache_is_bounded_and_says_what_it_is_for(filled):
    for entry in caches.registered():
        assert entry.holds and entry.bound and entry.moves, entry.name


def test_clear_empties_every_registered_cache(filled):
    caches.clear()
    assert sizes() == dict.fromkeys(sizes(), 0)


def test_another_ledger_identity_empties_every_cache(filled):
    now = store.read_head()  # the ledger the caches were filled from
    assert not caches.observe_ledger(now.identity, now.position)  # the same ledger: kept
    assert sizes() == filled
    assert not caches.observe_ledger(now.identity, now.position + 2)  # moved on: kept
    assert sizes() == filled
    assert caches.observe_ledger("another-ledger", now.position + 2)  # replaced: emptied
    assert sizes() == dict.fromkeys(sizes(), 0)


def test_a_head_that_went_back_empties_every_cache(filled):
    now = store.read_head()
    assert not caches.observe_ledger(now.identity, now.position)  # the ledger cached: kept
    assert caches.observe_ledger(now.identity, now.position - 1)  # restored from a backup
    assert sizes() == dict.fromkeys(sizes(), 0)


def test_after_clear_commands_and_reads_still_answer_from_the_ledger(filled, alice):
    caches.clear()
    result = s.partner_admit(
        actor=alice,
        slug="aip",
        organisation_id="oracle",
        name="Oracle",
        role="member",
        effective_on=FORMED,
    )
    assert {"xai", "oracle"} <= set(load_consortium("aip").state.partners)
    assert result.version == load_consortium("aip").version


def auditor_client() -> APIClient:
    """An API client with a key of an auditor (who may read everything, the feed too)."""
    user = get_user_model().objects.create(username="cache-auditor")
    key = new_key()
    ApiClient.objects.create(
        name="cache-auditor", user=user, key_prefix=key[:12], key_digest=digest(key)
    )
    RoleGrant.objects.create(user=user, role="auditor")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return api


def test_with_rendered_answers_off_every_read_is_rendered_again(formed, settings):
    settings.SPEED_OFF = ["rendered-answers"]
    get_resolver().url_patterns  # noqa: B018 - load every view, as a web process does
    formed()
    runner.catch_up_all()
    auditor = auditor_client()
    first = auditor.get("/api/v1/consortia/aip/progress/")
    again = auditor.get("/api/v1/consortia/aip/progress/")
    assert first.status_code == again.status_code == 200
    assert first.content == again.content
    assert auditor.get("/api/v1/events/").status_code == 200
    assert sizes()["rendered-answers"] == sizes()["rendered-events"] == 0


def test_heads_reported_out_of_order_by_concurrent_reads_keep_the_caches(filled):
    """Two threads read the ledger at once and report in the other order: not a restore.
    A head below one seen before the thread's read began still is."""
    now = store.read_head()
    other = threading.Thread(target=lambda: caches.observe_ledger(now.identity, now.position + 2))
    other.start()  # another thread's read ends first, with the higher head
    other.join()
    assert not caches.observe_ledger(now.identity, now.position + 1)  # this one began before
    assert sizes() == filled
    assert caches.observe_ledger(now.identity, now.position + 1)  # began after +2 was seen
    assert sizes() == dict.fromkeys(sizes(), 0)


def test_appends_reported_after_a_commit_hook_read_a_higher_head_keep_the_caches(
    transactional_db, filled, alice
):
    """Several appends in one transaction report their heads once it commits; another
    commit hook (a catch-up, say) may read the ledger's newer head in between. Their
    reports are judged by the floor when each read was made: not a restore."""
    from django.db import transaction

    with transaction.atomic():
        transaction.on_commit(store.read_head)  # runs first, reading the newest head
        for organisation in ("oracle", "softbank"):
            s.partner_admit(
                actor=alice,
                slug="aip",
                organisation_id=organisation,
                name=organisation.title(),
                role="member",
                effective_on=FORMED,
            )
    assert all(sizes()[name] for name in EXPECTED), sizes()  # nothing was emptied
    now = store.read_head()
    assert caches.observe_ledger(now.identity, now.position - 1)  # a restore still empties
