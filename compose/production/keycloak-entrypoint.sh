#!/bin/bash
# Secrets from files (compose secrets), never from the compose file: the database and bootstrap admin passwords
# are read here and handed to kc.sh in its environment. Before Keycloak starts, psql logs in to the database
# with them, so a missing file or a wrong password is one clear line instead of a Java stack trace.
set -euo pipefail
say() { echo "keycloak-entrypoint: $*" >&2; }
from_file() {
  local var=$1 file=$2
  if [ ! -r "$file" ] || [ ! -s "$file" ]; then
    say "the secret file $file ($var) is missing, unreadable or empty: create it with compose/production/setup.sh"
    exit 78
  fi
  export "$var=$(cat "$file")"
}
from_file KC_DB_PASSWORD "${KC_DB_PASSWORD_FILE:-/run/secrets/postgres_password}"
from_file KC_BOOTSTRAP_ADMIN_PASSWORD "${KC_BOOTSTRAP_ADMIN_PASSWORD_FILE:-/run/secrets/keycloak_admin_password}"
host=${KC_DB_URL_HOST:-postgres} port=${KC_DB_URL_PORT:-5432} db=${KC_DB_URL_DATABASE:-keycloak}
user=${KC_DB_USERNAME:-keycloak}
for attempt in $(seq 1 30); do
  if out=$(PGPASSWORD=$KC_DB_PASSWORD PGCONNECT_TIMEOUT=5 psql -h "$host" -p "$port" -U "$user" -d "$db" \
    -tAc 'select 1' 2>&1); then
    break
  fi
  case "$out" in
    *"password authentication failed"* | *"does not exist"*)
      say "PostgreSQL at $host:$port refused user $user for database $db: ${out##*FATAL:  }"
      say "the password comes from ${KC_DB_PASSWORD_FILE:-/run/secrets/postgres_password}; PostgreSQL took its copy at its first start (docs/production.md, \"Rotating secrets\")"
      exit 78
      ;;
  esac
  [ "$attempt" -eq 30 ] && { say "PostgreSQL at $host:$port does not answer after 60s: $out"; exit 75; }
  [ "$attempt" -eq 1 ] && say "waiting for PostgreSQL at $host:$port ($out)"
  sleep 2
done
exec /opt/keycloak/bin/kc.sh "$@"
