#!/usr/bin/env bash
# A Celery worker. Run as many as the load needs, on as many hosts (same Redis, same
# PostgreSQL): `docker compose up --scale worker=N`.
set -euo pipefail
cd "$(dirname "$0")/../.."

exec celery -A config worker \
  --loglevel "${LOG_LEVEL:-INFO}" \
  --concurrency "${CELERY_WORKER_CONCURRENCY:-2}" \
  --without-gossip \
  --without-mingle
