"""The projections page: where each projection stands, and a rebuild from the browser.

On the embedded default the rebuild runs eagerly, within the request; on the PostgreSQL
run a test hands it to a real Celery worker through a private Redis and follows the
page's polled fragment from "queued" to "switched".
"""

import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from consortium.projections import selectors
from ledger.models import ProjectionState
from ledger.projections import registry, runner
from tests.consortium.workspace_people import person, seed, signed_in
from tests.ledger.worker_support import (
    Processes,
    RedisServer,
    private_broker,
    wait_until,
)

PAGE = "/admin/projections/"
FRAGMENT = "/admin/projections/status/"
REBUILD = "/admin/projections/rebuild/"


def phase(content: bytes) -> str:
    found = re.search(rb'data-phase="(\w+)"', content)
    return found[1].decode() if found else ""


def positions() -> list[Any]:
    return [p.figures for p in selectors.positions("aip")]


@pytest.mark.django_db
def test_any_workspace_user_sees_where_each_projection_stands():
    seed()
    auditor = signed_in(person("audrey", "auditor", staff=True))
    page = auditor.get(PAGE)
    assert page.status_code == 200
    text = page.content.decode()
    head = runner.status()[0].head
    for name in registry.names():
        assert f'data-projection="{name}"' in text
    assert f">{head:,}<" in text  # checkpoint and head
    assert "idle" in text and "Rebuild</" not in text  # no button without a deal-team grant
    assert "A rebuild needs a deal-team grant." in text
    assert auditor.post(REBUILD, {"name": "consortium"}).status_code == 403
    assert runner.live_generation("consortium") == 1


@pytest.mark.django_db
def test_a_rebuild_on_the_embedded_default_runs_in_the_request_and_switches(settings):
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.skip("the embedded default (eager Celery); the broker's run is tested below")
    seed()
    before = positions()
    dana = signed_in(person("dana", "deal_team", staff=True))
    answer = dana.post(REBUILD, {"name": "consortium"})
    assert answer.status_code == 302
    assert answer["Location"] == f"{PAGE}?watch=consortium&generation=2"
    page = dana.get(answer["Location"])
    text = page.content.decode()
    assert "within this request" in text and "has no broker" in text
    assert phase(page.content) == "switched"
    assert "Switched: generation 2 of consortium is live." in text
    assert 'hx-get="/admin/projections/status/' not in text  # nothing left to poll
    assert runner.live_generation("consortium") == 2
    assert positions() == before


@pytest.mark.django_db
def test_a_rebuild_in_progress_shows_its_progress_until_the_switch():
    seed()
    name = "consortium"
    runner._start_rebuild(name, type(registry.get(name))())  # as a worker starts one
    ProjectionState.objects.filter(name=name).update(
        rebuild_checkpoint=10, rebuild_heartbeat=timezone.now()
    )
    head = runner.status()[0].head
    dana = signed_in(person("dana", "deal_team", staff=True))
    fragment = dana.get(f"{FRAGMENT}?watch={name}&generation=2")
    text = fragment.content.decode()
    assert phase(fragment.content) == "rebuilding"
    assert f"Rebuilding generation 2: 10 of {head} events" in text
    assert 'hx-trigger="every 1s"' in text  # the page keeps polling
    assert "rebuilding" in dana.get(PAGE).content.decode()

    runner.rebuild(name)  # the runner resumes it and switches
    fragment = dana.get(f"{FRAGMENT}?watch={name}&generation=2")
    assert phase(fragment.content) == "switched"
    assert "hx-trigger" not in fragment.content.decode()


@pytest.mark.django_db
def test_a_rebuild_already_running_is_left_to_its_runner():
    seed()
    dana = signed_in(person("dana", "deal_team", staff=True))
    with runner._exclusive(["consortium"], wait=False, space=runner._REBUILD_SPACE) as held:
        assert held == ["consortium"]
        page = dana.get(PAGE).content.decode()
        assert "busy: rebuilding" in page
        status = io.StringIO()
        call_command("projections_status", stdout=status)
        assert "rebuilding now" in status.getvalue()
        answer = dana.post(REBUILD, {"name": "consortium"}, follow=True)
    assert "being rebuilt by another runner" in answer.content.decode()
    assert runner.live_generation("consortium") == 1
    assert not ProjectionState.objects.filter(rebuild_generation__isnull=False).exists()


@pytest.mark.django_db
def test_a_stopped_projection_shows_its_error():
    seed()
    ProjectionState.objects.filter(name="ownership").update(
        last_error="ValueError: no such asset", error_position=7, error_at=timezone.now()
    )
    page = signed_in(person("audrey", "auditor", staff=True)).get(PAGE).content.decode()
    assert "stopped" in page and "at position 7: ValueError: no such asset" in page


@pytest.mark.django_db
def test_an_unknown_projection_or_a_get_is_refused():
    dana = signed_in(person("dana", "deal_team", staff=True))
    assert dana.post(REBUILD, {"name": "nothing"}).status_code == 404
    assert dana.get(REBUILD).status_code == 405


# --- with a real broker and worker (PostgreSQL) ------------------------------------------


@pytest.fixture
def broker(
    postgres_only: None,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RedisServer]:
    with private_broker(
        settings, monkeypatch, tmp_path_factory.mktemp("operations-logs")
    ) as server:
        yield server


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_rebuild_started_on_the_page_is_run_by_a_worker_and_switches(
    broker: RedisServer, tmp_path_factory: pytest.TempPathFactory
):
    seed()
    before = positions()
    dana = signed_in(person("dana", "deal_team", staff=True))
    answer = dana.post(REBUILD, {"name": "consortium"})
    assert answer.status_code == 302
    watch = answer["Location"].replace(PAGE, FRAGMENT)
    assert watch.endswith("?watch=consortium&generation=2")
    page = dana.get(answer["Location"]).content.decode()
    assert "handed to the workers" in page and "has no broker" not in page
    # No worker yet: the message waits in the broker, and the page says so.
    assert broker.queued() >= 1
    assert phase(dana.get(watch).content) == "queued"
    assert runner.live_generation("consortium") == 1

    processes = Processes(broker, tmp_path_factory, sweep_seconds=5, stale_rebuild_seconds=30)
    with processes.running():
        processes.worker()
        wait_until(
            lambda: phase(dana.get(watch).content) == "switched",
            timeout=60,
            interval=0.2,
            what="the page to say the rebuild switched",
        )
    assert runner.live_generation("consortium") == 2
    assert positions() == before


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_rebuild_with_the_broker_down_says_nothing_was_queued(broker: RedisServer):
    seed()
    broker.stop()
    dana = signed_in(person("dana", "deal_team", staff=True))
    answer = dana.post(REBUILD, {"name": "ownership"}, follow=True)
    assert answer.status_code == 200
    assert "Could not reach the broker" in answer.content.decode()
    assert runner.live_generation("ownership") == 1
    assert not ProjectionState.objects.filter(rebuild_generation__isnull=False).exists()
