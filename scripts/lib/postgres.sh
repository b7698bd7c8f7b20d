# shellcheck shell=bash
# A throwaway PostgreSQL cluster for tests, the demo and benchmarks.
# Source this file, then: tuku_pg_start DIR [PORT]; ...; tuku_pg_stop DIR
# tuku_pg_start exports TUKU_DATABASE_URL (and PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE for psql).

tuku_pg_ensure_installed() {
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "tuku: installing PostgreSQL (Debian package)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends postgresql postgresql-contrib >/dev/null
  fi
  TUKU_PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  export TUKU_PGBIN
}

# Runs a command as the cluster owner: `postgres` when we are root (initdb refuses root), else ourselves.
tuku_pg_as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

tuku_pg_free_port() {
  python3 - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

tuku_pg_start() {
  local dir=$1 port=${2:-}
  tuku_pg_ensure_installed
  [ -n "$port" ] || port=$(tuku_pg_free_port)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ "$(id -u)" = 0 ]; then
    # Every parent must be traversable by the postgres user.
    local p=$dir
    while [ "$p" != "/" ]; do chmod o+x "$p" 2>/dev/null || true; p=$(dirname "$p"); done
    chown postgres:postgres "$dir"
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    echo "tuku-postgres" > "$dir/pwfile"
    [ "$(id -u)" = 0 ] && chown postgres "$dir/pwfile"
    chmod 600 "$dir/pwfile"
    tuku_pg_as_owner "$TUKU_PGBIN/initdb" -D "$dir/data" -U postgres --auth-local=trust \
      --auth-host=scram-sha-256 --pwfile="$dir/pwfile" -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; return 1; }
  fi
  # TUKU_PG_DURABLE=1: commits survive a crash (scripts/chaos); otherwise fast and throwaway.
  local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [ "${TUKU_PG_DURABLE:-0}" = 1 ] && durability="-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
  tuku_pg_as_owner "$TUKU_PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $dir -c max_connections=300 $durability -c shared_buffers=256MB" \
    start >/dev/null || { tail -20 "$dir/server.log" >&2; return 1; }
  echo "$port" > "$dir/port"
  tuku_pg_as_owner psql -q -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 <<SQL >/dev/null
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tuku') THEN
    CREATE ROLE tuku LOGIN PASSWORD 'tuku' CREATEROLE CREATEDB;
  END IF;
  -- tuku bench queue checkpoints after loading history, so that write-back does not skew the next round.
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pg_checkpoint') AND NOT pg_has_role('tuku', 'pg_checkpoint', 'MEMBER') THEN
    GRANT pg_checkpoint TO tuku;
  END IF;
  -- Tests drop their databases WITH (FORCE), which terminates whatever is still connected. That may be an
  -- autovacuum worker, whose process belongs to no role, so only pg_signal_backend allows it.
  IF NOT pg_has_role('tuku', 'pg_signal_backend', 'MEMBER') THEN
    GRANT pg_signal_backend TO tuku;
  END IF;
END \$\$;
SELECT 'CREATE DATABASE tuku OWNER tuku' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'tuku')\gexec
SQL
  export PGHOST=127.0.0.1 PGPORT=$port PGUSER=tuku PGPASSWORD=tuku PGDATABASE=tuku
  export TUKU_DATABASE_URL="postgres://tuku:tuku@127.0.0.1:$port/tuku"
  export TUKU_PG_DIR=$dir
}

tuku_pg_stop() {
  local dir=$1
  [ -f "$dir/data/postmaster.pid" ] || return 0
  tuku_pg_ensure_installed
  tuku_pg_as_owner "$TUKU_PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
}
