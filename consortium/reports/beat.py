"""Celery beat's scheduler: django-celery-beat's ``DatabaseScheduler`` with the entries
defined in code (``CELERY_BEAT_SCHEDULE``: the projection sweep, the delivery sweep) kept
exactly as the code says.

The stock scheduler copies the settings' entries into ``PeriodicTask`` rows once, at
start-up, with ``update_or_create`` on everything but ``enabled``; afterwards the rows are
the schedule, so anyone who can edit ``PeriodicTask`` (its admin) could switch the sweep
off, slow it down or delete it, and it would stay so. ``ReportsScheduler`` re-asserts every
code-defined entry each time it reads the schedule (start-up, a change, and the full sync
every five minutes): the row is put back (enabled, the code's task, timing, arguments and
expiry) when it differs or is gone, and left alone when it matches, so re-asserting does
not itself count as a change. It also translates an entry's numeric ``expires`` option,
which the stock scheduler drops, into the row's ``expire_seconds``.

Report schedules' rows (``consortium.reports.schedules``) are ordinary database entries;
when beat fires one (task ``RUN_SCHEDULE``), the scheduler adds ``fired_at`` (when beat
sent it) to its arguments, so a worker that runs it late still reports the period it was
due for.

Configured as ``CELERY_BEAT_SCHEDULER`` in ``config/settings/base.py``.
"""

from __future__ import annotations

import logging
import math
from types import SimpleNamespace
from typing import Any

from celery import schedules
from django.db import transaction
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler, ModelEntry
from kombu.utils.json import dumps

log = logging.getLogger(__name__)

RUN_SCHEDULE = "consortium.reports.tasks.run_schedule"
CODE_DEFINED = (
    "Defined in code (CELERY_BEAT_SCHEDULE in config/settings/base.py): beat puts it back "
    "as the code says whenever it differs, so change it there."
)
SCHEDULE_FIELDS = ("interval", "crontab", "solar", "clocked")


def code_entry_fields(entry: dict[str, Any]) -> dict[str, Any]:
    """The ``PeriodicTask`` fields (besides ``name``) one settings entry stands for.

    The entry's schedule row (an interval, a crontab) is looked up, and created only when
    none matches, so calling this changes nothing that already exists."""
    schedule = schedules.maybe_schedule(entry["schedule"])
    fields: dict[str, Any] = dict.fromkeys(SCHEDULE_FIELDS)
    model_schedules: Any = ModelEntry.model_schedules
    for schedule_type, model_type, field in model_schedules:
        if isinstance(schedule, schedule_type):
            row = model_type.from_schedule(schedule)
            if row.pk is None:
                row.save()
            fields[field] = row
            break
    else:
        raise ValueError(f"Cannot store the schedule {schedule!r} of a code-defined entry")
    options = dict(entry.get("options") or {})
    expires = options.get("expires")
    fields.update(
        task=entry["task"],
        args=dumps(list(entry.get("args") or [])),
        kwargs=dumps(dict(entry.get("kwargs") or {})),
        queue=options.get("queue") or None,
        exchange=options.get("exchange") or None,
        routing_key=options.get("routing_key") or None,
        priority=options.get("priority"),
        headers=dumps(options.get("headers") or {}),
        expire_seconds=math.ceil(expires) if isinstance(expires, int | float) else None,
        expires=None,
        start_time=None,
        one_off=False,
        enabled=True,
        description=CODE_DEFINED,
    )
    return fields


def differs(task: PeriodicTask, fields: dict[str, Any]) -> bool:
    for name, wanted in fields.items():
        if name in SCHEDULE_FIELDS:
            if getattr(task, f"{name}_id") != (wanted.pk if wanted is not None else None):
                return True
        elif getattr(task, name) != wanted:
            return True
    return False


def assert_code_entries(beat_schedule: dict[str, dict[str, Any]]) -> list[str]:
    """Put every code-defined entry's row back as the code says; the names put back."""
    restored = []
    for name, entry in beat_schedule.items():
        with transaction.atomic():
            fields = code_entry_fields(entry)
            task = PeriodicTask.objects.select_for_update().filter(name=name).first()
            if task is None:
                PeriodicTask.objects.create(name=name, **fields)
            elif differs(task, fields):
                for field, value in fields.items():
                    setattr(task, field, value)
                task.no_changes = False  # a change: other schedulers reload too
                task.save()
            else:
                continue
        restored.append(name)
    return restored


def is_code_defined(name: str) -> bool:
    """Whether the ``PeriodicTask`` named so is one of the code's (the admin shows those
    read-only)."""
    from django.conf import settings

    return name in settings.CELERY_BEAT_SCHEDULE


class ReportsScheduler(DatabaseScheduler):
    """``DatabaseScheduler`` whose code-defined entries cannot be switched off or changed
    from the database, and which stamps report runs with the time beat sent them."""

    def setup_schedule(self) -> None:
        # The stock setup also writes the settings' entries with update_or_create, which
        # keeps an admin's "disabled"; reading the schedule re-asserts them instead.
        self.install_default_entries(self.schedule)  # type: ignore[no-untyped-call]

    def all_as_schedule(self) -> dict[str, Any]:
        restored = assert_code_entries(self.app.conf.beat_schedule)
        if restored:
            log.info("Code-defined beat entries put back as the code says: %s", restored)
        return super().all_as_schedule()  # type: ignore[no-untyped-call, no-any-return]

    def apply_async(
        self, entry: Any, producer: Any = None, advance: bool = True, **kwargs: Any
    ) -> Any:
        if entry.task == RUN_SCHEDULE:
            if advance:
                entry = self.reserve(entry)  # type: ignore[no-untyped-call]
            # What the stock apply_async reads of an entry, with this firing's time added
            # (the entry itself is left as the database holds it).
            entry = SimpleNamespace(
                name=entry.name,
                task=entry.task,
                args=entry.args,
                kwargs={**entry.kwargs, "fired_at": self.app.now().isoformat()},
                options=entry.options,
            )
            advance = False
        return super().apply_async(entry, producer=producer, advance=advance, **kwargs)
