"""deploy/ for the reports: stored reports on a volume where DJANGO_MEDIA_ROOT points, in
every service that reads or writes them, and beat on the database scheduler."""

import re

from celery.utils.imports import symbol_by_name
from django.conf import settings
from django_celery_beat.schedulers import DatabaseScheduler

from tests.deploy.test_compose import ENV_EXAMPLE, compose, dockerfile_instructions


def media_root() -> str:
    match = re.search(r"^DJANGO_MEDIA_ROOT=(\S+)$", ENV_EXAMPLE.read_text(), re.MULTILINE)
    assert match, "deploy/.env.example sets no DJANGO_MEDIA_ROOT"
    return match[1]


def test_stored_reports_are_on_a_named_volume_in_web_and_worker():
    data = compose()
    root = media_root()
    for name in ("web", "worker"):
        mounts = dict(v.split(":")[:2][::-1] for v in data["services"][name].get("volumes", []))
        assert root in mounts, f"{name} does not mount {root}"
        volume = mounts[root]
        assert volume in data["volumes"], f"{volume} is not a named volume"
    web = dict(v.split(":")[:2][::-1] for v in data["services"]["web"]["volumes"])
    worker = dict(v.split(":")[:2][::-1] for v in data["services"]["worker"]["volumes"])
    assert web[root] == worker[root], "web and worker must share the reports' volume"


def test_the_image_makes_the_media_directory_for_the_app_user():
    # A new named volume takes the owner of the directory it is mounted over.
    runs = " ".join(rest for keyword, rest in dockerfile_instructions() if keyword == "RUN")
    assert re.search(rf"install -d -o app -g app [^&]*{re.escape(media_root())}\b", runs)


def test_beat_reads_its_schedule_from_the_database_and_waits_for_it():
    scheduler = symbol_by_name(settings.CELERY_BEAT_SCHEDULER)
    assert issubclass(scheduler, DatabaseScheduler)
    beat = compose()["services"]["beat"]
    assert beat["depends_on"]["postgres"]["condition"] == "service_healthy"
