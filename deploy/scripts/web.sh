#!/usr/bin/env bash
# The web process: gunicorn serving config.wsgi:application. Stateless, so scale it out with
# more workers (WEB_CONCURRENCY) or more replicas behind a load balancer.
set -euo pipefail
cd "$(dirname "$0")/../.."

# The control socket is off: its default lives under $HOME, which the app user lacks.
exec gunicorn config.wsgi:application \
  --bind "0.0.0.0:${PORT:-8000}" \
  --workers "${WEB_CONCURRENCY:-2}" \
  --worker-class gthread \
  --threads "${GUNICORN_THREADS:-4}" \
  --timeout "${GUNICORN_TIMEOUT:-30}" \
  --graceful-timeout "${GUNICORN_GRACEFUL_TIMEOUT:-30}" \
  --keep-alive "${GUNICORN_KEEP_ALIVE:-5}" \
  --max-requests "${GUNICORN_MAX_REQUESTS:-20000}" \
  --max-requests-jitter 2000 \
  --worker-tmp-dir /dev/shm \
  --access-logfile - \
  --error-logfile - \
  --no-control-socket
