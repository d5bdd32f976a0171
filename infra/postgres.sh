# shellcheck shell=bash
# Project-local PostgreSQL for development and CI. Sourced by infra/dev.sh and
# infra/sam/check.sh, which set REPO_ROOT and `set -euo pipefail`.
#
#   ensure_postgres   start (or reuse) the cluster, create database `molecule`,
#                     export ConnectionStrings__Postgres. A no-op when the caller
#                     already set ConnectionStrings__Postgres.
#   stop_postgres     stop this repo's cluster if it is running.
#   export_libpq_connection CS
#                     export PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE for the
#                     keys an Npgsql-style "Key=Value;..." string names.
#
# The cluster uses the distro's server binaries (/usr/lib/postgresql/<v>/bin,
# highest version; Debian's `postgresql` package is installed when missing) but
# never Debian's own cluster or service: initdb + pg_ctl on our own data dir,
# listening on 127.0.0.1:$MOLECULE_PG_PORT (default 55432) only, trust auth.
#
# Where the data lives: $REPO_ROOT/.local/postgres/{data,postgres.log,run}.
# initdb/pg_ctl refuse to run as root, so as root they run as the `postgres`
# OS user (or the owner of an existing data dir); if that user cannot traverse
# the repo path (e.g. CI's clone under a mode-700 mktemp dir), the cluster goes
# to /var/tmp/molecule-dev-pg/<hash of repo path> instead.

MOLECULE_PG_PORT="${MOLECULE_PG_PORT:-55432}"
MOLECULE_PG_START_TIMEOUT="${MOLECULE_PG_START_TIMEOUT:-30}"

PG_BIN=""        # server/client binaries of the cluster
PG_BASE=""       # holds data/, run/, postgres.log
PG_DATA=""
PG_RUN=""
PG_LOG=""
PG_RUN_AS=""     # OS user that runs initdb/pg_ctl ("" = the current user)

pg__log() { echo "[postgres] $*" >&2; }
pg__die() { echo "[postgres] ERROR: $*" >&2; exit 1; }

# Highest /usr/lib/postgresql/<version>/bin that has the server binaries.
pg__find_bindir() {
  local d found=()
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x "$d/initdb" && -x "$d/pg_ctl" && -x "$d/postgres" ]] && found+=("$d")
  done
  ((${#found[@]})) || return 1
  printf '%s\n' "${found[@]}" | sort -V | tail -n 1
}

pg__install() {
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || pg__die "PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin, and cannot install them (not root, no sudo). Install Debian's 'postgresql' package, or set ConnectionStrings__Postgres to an existing database."
    sudo=(sudo)
  fi
  command -v apt-get >/dev/null 2>&1 || pg__die "PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin and apt-get is not available. Install PostgreSQL, or set ConnectionStrings__Postgres."
  pg__log "server binaries not found; installing Debian's 'postgresql' package"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null \
    || pg__die "apt-get update failed"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql </dev/null \
    || pg__die "apt-get install postgresql failed"
}

pg__ensure_bindir() {
  [[ -n "$PG_BIN" ]] && return 0
  if ! PG_BIN="$(pg__find_bindir)"; then
    pg__install
    PG_BIN="$(pg__find_bindir)" || pg__die "installed 'postgresql' but still no server binaries in /usr/lib/postgresql/*/bin"
  fi
}

# Run a command as the cluster's OS user, from / (the caller's cwd may not be
# readable by that user).
pg__as_owner() {
  if [[ -n "$PG_RUN_AS" ]]; then
    (cd / && runuser -u "$PG_RUN_AS" -- "$@")
  else
    "$@"
  fi
}

pg__set_paths() {
  PG_BASE="$1"
  PG_DATA="$PG_BASE/data"
  PG_RUN="$PG_BASE/run"
  PG_LOG="$PG_BASE/postgres.log"
}

pg__repo_dir() { echo "$REPO_ROOT/.local/postgres"; }
pg__fallback_dir() {
  local h
  h="$(printf '%s' "$REPO_ROOT" | sha256sum | cut -c1-12)"
  echo "/var/tmp/molecule-dev-pg/$h"
}

# Decide PG_BASE and PG_RUN_AS. Creates the base dir when $1 = create.
pg__choose_dir() {
  local create="${1:-}" repo_dir fallback owner
  repo_dir="$(pg__repo_dir)"
  fallback="$(pg__fallback_dir)"

  if [[ $(id -u) -ne 0 ]]; then
    PG_RUN_AS=""
    pg__set_paths "$repo_dir"
    [[ "$create" == create ]] && mkdir -p "$PG_BASE" && chmod 700 "$PG_BASE"
    return 0
  fi

  # root: a cluster that already exists decides (in-repo first, then fallback)
  local cand
  for cand in "$repo_dir" "$fallback"; do
    if [[ -f "$cand/data/PG_VERSION" ]]; then
      owner="$(stat -c %U "$cand/data")"
      [[ "$owner" == root ]] && pg__die "$cand/data is owned by root; PostgreSQL cannot run as root. Remove it (rm -rf '$cand') and retry."
      PG_RUN_AS="$owner"
      pg__set_paths "$cand"
      return 0
    fi
  done

  PG_RUN_AS=postgres
  if ! id -u postgres >/dev/null 2>&1; then
    # binaries present without the user (unusual image): create a system user
    useradd --system --user-group --home-dir /var/lib/postgresql --no-create-home \
      --shell /bin/bash postgres || pg__die "cannot create the 'postgres' OS user"
  fi
  [[ "$create" == create ]] || { pg__set_paths "$repo_dir"; return 0; }

  mkdir -p "$REPO_ROOT/.local"
  if (cd / && runuser -u postgres -- test -x "$REPO_ROOT/.local" -a -r "$REPO_ROOT/.local"); then
    pg__set_paths "$repo_dir"
  else
    pg__set_paths "$fallback"
    mkdir -p "$(dirname "$PG_BASE")"
    chmod 755 "$(dirname "$PG_BASE")"
    pg__log "user 'postgres' cannot reach $REPO_ROOT/.local; cluster data goes to $PG_BASE"
  fi
  mkdir -p "$PG_BASE"
  chown postgres: "$PG_BASE"
  chmod 700 "$PG_BASE"
}

pg__ready() {
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$MOLECULE_PG_PORT" -U postgres -d postgres -t 3 >/dev/null 2>&1
}

pg__wait_ready() {
  local deadline=$((SECONDS + MOLECULE_PG_START_TIMEOUT))
  until pg__ready; do
    if ((SECONDS >= deadline)); then
      echo "---- last lines of $PG_LOG ----" >&2
      tail -n 25 "$PG_LOG" >&2 2>/dev/null || true
      pg__die "PostgreSQL did not answer on 127.0.0.1:$MOLECULE_PG_PORT within ${MOLECULE_PG_START_TIMEOUT}s"
    fi
    sleep 1
  done
}

# Is the postmaster.pid in our data dir a live postgres (not a recycled PID)?
pg__pid_alive() {
  local pid
  [[ -f "$PG_DATA/postmaster.pid" ]] || return 1
  pid="$(head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/comm" ]] || return 1
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == postgres* ]]
}

# Port our running postmaster listens on (line 4 of postmaster.pid), or "".
pg__running_port() {
  sed -n 4p "$PG_DATA/postmaster.pid" 2>/dev/null || true
}

pg__clear_stale_pid() {
  if [[ -f "$PG_DATA/postmaster.pid" ]] && ! pg__pid_alive; then
    pg__log "removing stale $PG_DATA/postmaster.pid"
    rm -f "$PG_DATA/postmaster.pid" "$PG_RUN"/.s.PGSQL.*.lock 2>/dev/null || true
  fi
}

pg__initdb() {
  pg__log "initialising a new cluster in $PG_DATA (PostgreSQL $(basename "$(dirname "$PG_BIN")"))"
  pg__as_owner "$PG_BIN/initdb" -D "$PG_DATA" --auth=trust --username=postgres \
    --encoding=UTF8 --locale=C >"$PG_BASE/initdb.log" 2>&1 || {
      tail -n 40 "$PG_BASE/initdb.log" >&2 || true
      pg__die "initdb failed (full log: $PG_BASE/initdb.log)"
    }
}

pg__start() {
  local sockdir="$PG_RUN"
  pg__as_owner mkdir -p "$PG_RUN"
  # unix socket paths are limited to ~107 bytes; we connect over TCP anyway
  if (( ${#PG_RUN} + 20 > 100 )); then sockdir=""; fi
  pg__log "starting cluster on 127.0.0.1:$MOLECULE_PG_PORT (data: $PG_DATA, log: $PG_LOG)"
  if ! pg__as_owner "$PG_BIN/pg_ctl" start -D "$PG_DATA" -l "$PG_LOG" -w -t "$MOLECULE_PG_START_TIMEOUT" \
      -o "-c listen_addresses=127.0.0.1 -c port=$MOLECULE_PG_PORT -c unix_socket_directories='$sockdir'" >/dev/null; then
    echo "---- last lines of $PG_LOG ----" >&2
    tail -n 25 "$PG_LOG" >&2 2>/dev/null || true
    pg__die "pg_ctl start failed"
  fi
}

pg__stop_ours() {
  pg__as_owner "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m fast -w -t 30 >/dev/null
}

pg__sql() {
  PGCONNECT_TIMEOUT=5 "$PG_BIN/psql" -X -w -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$MOLECULE_PG_PORT" \
    -U postgres -d postgres -tA -c "$1" </dev/null
}

ensure_postgres() {
  if [[ -n "${ConnectionStrings__Postgres:-}" ]]; then
    pg__log "ConnectionStrings__Postgres is set; not starting a local cluster"
    return 0
  fi
  [[ "$MOLECULE_PG_PORT" =~ ^[0-9]+$ ]] || pg__die "MOLECULE_PG_PORT must be a number (got '$MOLECULE_PG_PORT')"

  pg__ensure_bindir
  pg__choose_dir create

  # a cluster made by another major version needs that version's binaries
  if [[ -f "$PG_DATA/PG_VERSION" ]]; then
    local dv
    dv="$(cat "$PG_DATA/PG_VERSION")"
    if [[ "$PG_BIN" != "/usr/lib/postgresql/$dv/bin" ]]; then
      [[ -x "/usr/lib/postgresql/$dv/bin/pg_ctl" ]] \
        || pg__die "$PG_DATA was created by PostgreSQL $dv, whose binaries are not installed (have: $PG_BIN). Remove $PG_BASE to start afresh."
      PG_BIN="/usr/lib/postgresql/$dv/bin"
    fi
  fi

  local rport=""
  pg__pid_alive && rport="$(pg__running_port)"
  if [[ "$rport" == "$MOLECULE_PG_PORT" ]]; then
    pg__log "reusing the running cluster on 127.0.0.1:$MOLECULE_PG_PORT (data: $PG_DATA)"
  elif pg__ready; then
    pg__log "port $MOLECULE_PG_PORT already answers, but not from $PG_DATA: reusing that server (set MOLECULE_PG_PORT to use another port)"
  elif [[ -n "$rport" ]]; then
    pg__log "our cluster runs on port $rport, wanted $MOLECULE_PG_PORT: restarting it"
    pg__stop_ours
    pg__start
  else
    pg__clear_stale_pid
    [[ -f "$PG_DATA/PG_VERSION" ]] || pg__initdb
    pg__start
  fi
  pg__wait_ready

  if [[ "$(pg__sql "SELECT 1 FROM pg_database WHERE datname = 'molecule'")" != 1 ]]; then
    pg__log "creating database molecule"
    PGCONNECT_TIMEOUT=5 "$PG_BIN/createdb" -w -h 127.0.0.1 -p "$MOLECULE_PG_PORT" -U postgres molecule </dev/null \
      || pg__die "createdb molecule failed"
  fi

  export ConnectionStrings__Postgres="Host=127.0.0.1;Port=$MOLECULE_PG_PORT;Username=postgres;Database=molecule"
}

# Npgsql-style "Key=Value;..." ($1) -> libpq environment; a key it does not name is left as it was.
export_libpq_connection() {
  local kv k v kvs
  IFS=';' read -r -a kvs <<<"$1"
  for kv in "${kvs[@]}"; do
    [[ "$kv" == *=* ]] || continue
    k="$(tr '[:upper:]' '[:lower:]' <<<"${kv%%=*}" | tr -d ' ')"
    v="${kv#*=}"
    case "$k" in
      host|server) export PGHOST="$v" ;;
      port) export PGPORT="$v" ;;
      username|userid|user|uid) export PGUSER="$v" ;;
      password|pwd) export PGPASSWORD="$v" ;;
      database|db) export PGDATABASE="$v" ;;
    esac
  done
}

stop_postgres() {
  if ! PG_BIN="$(pg__find_bindir)"; then
    pg__log "no PostgreSQL binaries installed; nothing to stop"
    return 0
  fi
  local stopped=0 cand owner
  for cand in "$(pg__repo_dir)" "$(pg__fallback_dir)"; do
    [[ -f "$cand/data/PG_VERSION" ]] || continue
    pg__set_paths "$cand"
    PG_RUN_AS=""
    if [[ $(id -u) -eq 0 ]]; then
      owner="$(stat -c %U "$PG_DATA")"
      [[ "$owner" != root ]] && PG_RUN_AS="$owner"
    fi
    local dv
    dv="$(cat "$PG_DATA/PG_VERSION")"
    [[ -x "/usr/lib/postgresql/$dv/bin/pg_ctl" ]] && PG_BIN="/usr/lib/postgresql/$dv/bin"
    if pg__pid_alive; then
      pg__log "stopping the cluster in $PG_DATA"
      pg__stop_ours
      stopped=1
    else
      pg__clear_stale_pid
    fi
  done
  ((stopped)) || pg__log "no running cluster of this repo"
}
