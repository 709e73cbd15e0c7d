#!/usr/bin/env bash
# One-shot, before web/worker/beat start: refuse an unsafe configuration, apply migrations
# (as the schema owner), then grant the application role exactly what it needs, table by table.
set -euo pipefail
cd "$(dirname "$0")/../.."

# First, so a placeholder secret key or an empty DJANGO_ALLOWED_HOSTS never gets as far as
# touching the database, and web never starts with it.
python manage.py check --deploy --fail-level WARNING
python manage.py migrate --noinput

# DATABASE_APP_ROLE names the role web, worker and beat connect as (see deploy/README.md).
if [[ -n "${DATABASE_APP_ROLE:-}" ]]; then
  exec python deploy/scripts/grant_app_role.py "$DATABASE_APP_ROLE"
fi
