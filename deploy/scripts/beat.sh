#!/usr/bin/env bash
# Celery beat, the periodic scheduler. Run EXACTLY ONE: two would send every periodic task
# twice (a report run would still be made once: runs are unique per schedule and period).
# Its schedule is in the database (CELERY_BEAT_SCHEDULER: django-celery-beat's
# DatabaseScheduler, as consortium.reports.beat.ReportsScheduler): the report schedules
# managed in the workspace, and the code's own entries (CELERY_BEAT_SCHEDULE), which it
# keeps as written there.
set -euo pipefail
cd "$(dirname "$0")/../.."

exec celery -A config beat \
  --loglevel "${LOG_LEVEL:-INFO}"
