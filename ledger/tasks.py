"""Celery tasks of the ledger: they take names, not objects, and call the code that does
the work (the projection runner, stored snapshots). Requests queue them by name
(``ledger.queueing``), so nothing on the request's side imports this module."""

import logging
import time

from celery import shared_task
from django.conf import settings

from ledger import queueing, states
from ledger.projections import runner, triggers

log = logging.getLogger(__name__)


_last_round = [0.0]  # when this worker process last started a catch-up round
# Rounds one catch-up task runs while appends keep coming (about a second at the pace)
# before it hands over to a new task, so other tasks get this worker's turn too.
CATCH_UP_MAX_ROUNDS = 40


@shared_task(name=queueing.CATCH_UP_PROJECTIONS, ignore_result=True)
def catch_up_projections() -> None:
    """Catch up every projection no other runner has (queued, coalesced, after appends).

    Paced: a round starts at least ``PROJECTION_CATCH_UP_MIN_INTERVAL_MS`` after the last
    one this process started. A round costs about the same for one event as for ten (it
    rewrites each touched consortium's rows once), so under a steady stream of appends
    waiting a few milliseconds, while the "queued" marker is still set and appends add
    no messages, folds them into one round. A projection another worker is running is
    left to it: this task returns at once (the runner's holder re-reads the head before
    and after it lets go, so these appends are not left for the sweep).
    """
    interval = settings.PROJECTION_CATCH_UP_MIN_INTERVAL_MS / 1000
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        wait = _last_round[0] + interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        _last_round[0] = time.monotonic()
        triggers.catch_up_started()
    result = runner.catch_up_all(pace=interval, max_rounds=CATCH_UP_MAX_ROUNDS)
    if result.busy:
        log.info("Projections %s are being caught up by another worker.", ", ".join(result.busy))
    if result.unfinished:  # appends are still arriving: the next task takes over
        triggers.request_catch_up()


@shared_task(name=queueing.SAVE_SNAPSHOT, ignore_result=True)
def save_snapshot(stream: str) -> None:
    """Fold a stream and store its snapshot, so commands never pay for the pickling."""
    states.save_now(stream)


@shared_task(name=queueing.SWEEP_PROJECTIONS, ignore_result=True)
def sweep_projections() -> None:
    """The periodic safety net (beat): catch up what no worker is running, and queue the
    resumption of rebuilds whose runner died.

    Short by design: a projection another worker is running is left to it, and a rebuild
    is queued (once: ``triggers.resume_stale_rebuilds``), not run here, so a sweep never
    holds a worker for long and sweeps do not pile up behind one another. Beat gives each
    sweep message an expiry of one interval: one that waited longer is dropped unrun, as
    the next one is already on its way.
    """
    runner.catch_up_all()
    triggers.resume_stale_rebuilds()


@shared_task(
    name=queueing.REBUILD_PROJECTION,
    bind=True,
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
)
def rebuild_projection(self: object, name: str, generation: int | None = None) -> None:
    """Rebuild one projection beside its live generation (resumes an interrupted one).

    ``generation`` is the one the request was for: a message redelivered after its rebuild
    was finished (by the sweep, say) finds it live and does nothing.
    """
    triggers.rebuild_started(name)
    if generation is not None and runner.live_generation(name) >= generation:
        log.info("Rebuild of %s to generation %s is already done.", name, generation)
        return

    def progress(p: runner.Progress) -> None:
        left = f", about {p.seconds_left:.0f} s left" if p.seconds_left is not None else ""
        log.info(
            "Rebuilding %s: %s of %s events (%.0f/s%s)",
            p.name,
            p.done,
            p.head,
            p.per_second,
            left,
        )

    try:
        runner.rebuild(name, progress=progress)
    except runner.RebuildBusy as busy:  # a redelivered message meeting the resumed rebuild
        log.info("%s", busy)


def queue_rebuild(name: str) -> int:
    """Hand the rebuild of ``name`` to the workers (``rebuild_projections --queue``, the
    workspace's projections page); returns the generation it builds. On the embedded
    default (eager Celery) the task runs here, before this returns; a rebuild already
    running is left to its runner (the task meets ``runner.RebuildBusy`` and says so)."""
    generation = runner.next_generation(name)
    rebuild_projection.delay(name, generation)
    return generation
