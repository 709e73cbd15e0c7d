#!/usr/bin/env bash
# Runs once, when the postgres volume is first initialised (the postgres image runs every
# script in /docker-entrypoint-initdb.d). Creates the application's login role; its table
# privileges are granted by deploy/scripts/grant_app_role.py after each migrate, because
# the tables do not exist yet. POSTGRES_USER (the image's superuser) owns the schema here;
# see deploy/README.md for a production database with a dedicated, non-superuser owner.
set -euo pipefail

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v app_user="$POSTGRES_APP_USER" \
  -v app_password="$POSTGRES_APP_PASSWORD" \
  -v db="$POSTGRES_DB" <<'SQL'
CREATE ROLE :"app_user" LOGIN PASSWORD :'app_password' NOSUPERUSER NOCREATEDB NOCREATEROLE;
GRANT CONNECT ON DATABASE :"db" TO :"app_user";
SQL
