#!/usr/bin/env bash
# Entry point compatible with the official postgres image where Testcontainers relies on it:
# - POSTGRES_USER (default postgres), POSTGRES_PASSWORD (required unless
#   POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_DB (default: the user's name),
#   POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD (default scram-sha-256);
# - initdb into $PGDATA on first start, then /docker-entrypoint-initdb.d/*.sh, *.sql, *.sql.gz;
# - the set-up runs on a temporary server that listens on the unix socket only, so
#   `pg_isready --host localhost` can't succeed before the real server is up;
# - arguments starting with '-' mean `postgres <args>`
#   (Testcontainers passes `-c fsync=off -c full_page_writes=off -c synchronous_commit=off`);
# - the server runs as the postgres user, listening on all addresses (0.0.0.0:5432).
set -Eeo pipefail  # no -u: sourced initdb.d scripts run in this shell, as in the official image

log() { echo "docker-entrypoint: $*" >&2; }

if [ "${1:0:1}" = '-' ]; then
  set -- postgres "$@"
fi

# `postgres --help`, `--version`, `-C name` and the like only print: no set-up for them.
wants_server() {
  local arg
  for arg; do
    case "$arg" in
      -'?'|--help|--describe-config|-V|--version|-C|--single) return 1 ;;
    esac
  done
  return 0
}

if [ "$1" != 'postgres' ] || ! wants_server "$@"; then
  exec "$@"
fi

export PGDATA="${PGDATA:-/var/lib/postgresql/data}"

if [ "$(id -u)" = '0' ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  chmod 3777 /var/run/postgresql
  # Only when needed: a large mounted data directory isn't walked on every start.
  find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
  chown postgres:postgres /var/run/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  POSTGRES_USER="${POSTGRES_USER:-postgres}"
  POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"
  POSTGRES_HOST_AUTH_METHOD="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != 'trust' ]; then
    log "the database is not initialized and no superuser password is given:"
    log "set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust, which allows anyone to connect)"
    exit 1
  fi

  log "initializing $PGDATA for user $POSTGRES_USER"
  # The password goes through a pipe, never on a command line. initdb's own default, trust,
  # stays for connections inside the container (unix socket, 127.0.0.1, ::1), as in the
  # official image; other hosts get $POSTGRES_HOST_AUTH_METHOD, added below.
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of words
  initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "${POSTGRES_PASSWORD:-}") \
    ${POSTGRES_INITDB_ARGS:-} >/dev/null
  {
    echo
    echo "host all all all $POSTGRES_HOST_AUTH_METHOD"
  } >>"$PGDATA/pg_hba.conf"
  echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"

  # Temporary server for the set-up: unix socket only, so nothing outside (and no
  # `pg_isready --host localhost`) sees it.
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w -s start
  export PGUSER="$POSTGRES_USER" PGPASSWORD="${POSTGRES_PASSWORD:-}" PGHOST=/var/run/postgresql PGPORT=5432
  psql=(psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet)

  if [ "$POSTGRES_DB" != 'postgres' ]; then
    "${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" <<'SQL'
CREATE DATABASE :"db";
SQL
  fi

  shopt -s nullglob
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh)
        if [ -x "$f" ]; then log "running $f"; "$f"
        else log "sourcing $f"; . "$f"; fi ;;
      *.sql) log "running $f"; "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
      *.sql.gz) log "running $f"; gunzip -c "$f" | "${psql[@]}" --dbname "$POSTGRES_DB" ;;
      *) log "ignoring $f" ;;
    esac
  done
  shopt -u nullglob

  pg_ctl -D "$PGDATA" -m fast -w -s stop
  unset PGUSER PGPASSWORD PGHOST PGPORT
  log "initialization complete"
fi

exec "$@"
