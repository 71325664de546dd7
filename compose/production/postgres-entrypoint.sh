#!/bin/bash
# First start: initdb in the volume, then the `keycloak` role (password from POSTGRES_PASSWORD_FILE) and its
# database. Every start: postgres in the foreground (PID 1, so `docker stop` shuts it down cleanly).
# The password is read from the file only: it never appears in a command line (psql's included) or the environment
# of postgres.
set -euo pipefail
say() { echo "postgres-entrypoint: $*" >&2; }
pw_file=${POSTGRES_PASSWORD_FILE:-/run/secrets/postgres_password}
db=${POSTGRES_DB:-keycloak}
user=${POSTGRES_USER:-keycloak}
if [ ! -r "$pw_file" ] || [ ! -s "$pw_file" ]; then
  say "the password file $pw_file (POSTGRES_PASSWORD_FILE) is missing, unreadable or empty: create it with compose/production/setup.sh"
  exit 78
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  say "no database in $PGDATA yet: creating the cluster, role $user and database $db"
  initdb --pgdata="$PGDATA" --username=postgres --auth-local=peer --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  {
    echo "listen_addresses = '*'"
    echo "password_encryption = scram-sha-256"
    # Two Keycloak nodes × their pools (25 each by default) with room for psql and pg_dump.
    echo "max_connections = 120"
  } >>"$PGDATA/postgresql.conf"
  # Only the postgres OS user on the socket; everyone else by password over TCP.
  printf 'local all postgres peer\nhost all all all scram-sha-256\n' >"$PGDATA/pg_hba.conf"
  pg_ctl --pgdata="$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  # psql variables (:'pw') quote the password whatever it contains; stdin, since -c does not interpolate. psql
  # reads the file itself (a backquoted \set): on its command line (-v pw=…) the password showed in `ps` on the
  # Docker host for as long as psql ran.
  psql -v ON_ERROR_STOP=1 -q -U postgres -v pw_file="$pw_file" -v user="$user" -v db="$db" <<'SQL'
\set pw `cat :'pw_file'`
CREATE ROLE :"user" LOGIN PASSWORD :'pw';
CREATE DATABASE :"db" OWNER :"user";
SQL
  pg_ctl --pgdata="$PGDATA" -m fast -w stop >/dev/null
  say "ready: database $db owned by $user"
fi
exec postgres -D "$PGDATA"
