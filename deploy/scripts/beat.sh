#!/usr/bin/env bash
# Celery beat, the periodic scheduler. Run EXACTLY ONE: two would send every periodic task
# twice. The schedule file records last run times; keep it on a writable volume.
set -euo pipefail
cd "$(dirname "$0")/../.."

exec celery -A config beat \
  --loglevel "${LOG_LEVEL:-INFO}" \
  --schedule "${CELERY_BEAT_SCHEDULE_FILE:-${CONSORTIUM_VAR_DIR:-/tmp}/celerybeat-schedule}"
