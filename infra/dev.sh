#!/usr/bin/env bash
# Developer / CI entry point.
#
#   infra/dev.sh run [app args]   local Postgres + the API (sim providers) on http://127.0.0.1:8080
#   infra/dev.sh test [args]      local Postgres + every test (npm ci in infra/checks, .NET, then npm test there);
#                                 with args (e.g. --filter Name~Claim) only `dotnet test <args>`, a focused run
#   infra/dev.sh bench CMD [args] local Postgres + a benchmark (bench/Molecule.Bench), e.g. orphan-sweep --rows 10000;
#                                 `bench api` installs Debian's wrk (the load generator) when it is missing
#   infra/dev.sh stop             stop this repo's local Postgres cluster
#   infra/dev.sh psql [args]      psql on the molecule database
#
# Environment: ConnectionStrings__Postgres (given: no local cluster is started),
# MOLECULE_PG_PORT (55432), MOLECULE_TEST_POSTGRES, ASPNETCORE_ENVIRONMENT,
# ASPNETCORE_URLS, MOLECULE_ADMIN_TOKEN, Molecule__* (passed through untouched).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$REPO_ROOT"

# shellcheck source=infra/postgres.sh
source "$REPO_ROOT/infra/postgres.sh"

export DOTNET_CLI_TELEMETRY_OPTOUT="${DOTNET_CLI_TELEMETRY_OPTOUT:-1}"
export DOTNET_NOLOGO="${DOTNET_NOLOGO:-1}"

usage() {
  sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "ERROR: '$1' is not on PATH${2:+ ($2)}" >&2; exit 1; }
}

cmd_run() {
  need dotnet "install the .NET 10 SDK"
  ensure_postgres
  export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Development}"
  export ASPNETCORE_URLS="${ASPNETCORE_URLS:-http://127.0.0.1:8080}"

  local url token
  url="${ASPNETCORE_URLS%%;*}"
  url="$(sed -E 's#://(\+|\*|0\.0\.0\.0|\[::\])#://127.0.0.1#' <<<"$url")"
  url="${url%/}"
  token="${MOLECULE_ADMIN_TOKEN:-molecule-dev-token}"

  cat <<EOF

  Molecule API  : $url   ($ASPNETCORE_ENVIRONMENT)
  Admin token   : $token
  Postgres      : $ConnectionStrings__Postgres
  Try           : curl -s -X POST "$url/workspaces" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d '{"name":"hello"}'

EOF
  if (($#)); then
    exec dotnet run --project src/Molecule.Api -c Release --no-launch-profile -- "$@"
  fi
  exec dotnet run --project src/Molecule.Api -c Release --no-launch-profile
}

# A log as plain text: the terminal logger's colour codes removed.
plain_log() {
  sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' "$1"
}

# Sum dotnet's per-project summary lines in a log:
#   Passed!  - Failed:     0, Passed:    12, Skipped:     0, Total:    12, Duration: ...
#   Failed!  - Failed:     1, Passed:    11, Skipped:     0, Total:    12, Duration: ...
# (and the terminal logger's "Test summary: total: N, failed: F, succeeded: S, skipped: K"
# as a fallback). Prints "passed failed skipped projects".
sum_dotnet_results() {
  plain_log "$1" | awk '
    /(Passed|Failed)! +- +Failed: +[0-9]+, +Passed: +[0-9]+, +Skipped: +[0-9]+/ {
      line = $0
      sub(/.*Failed: +/, "", line);  f = line + 0
      line = $0; sub(/.*Passed: +/, "", line);  p = line + 0
      line = $0; sub(/.*Skipped: +/, "", line); s = line + 0
      P += p; F += f; S += s; n++
      next
    }
    /Test summary: total: [0-9]+, failed: [0-9]+, succeeded: [0-9]+, skipped: [0-9]+/ {
      line = $0; sub(/.*failed: /, "", line);    tf = line + 0
      line = $0; sub(/.*succeeded: /, "", line); tp = line + 0
      line = $0; sub(/.*skipped: /, "", line);   ts = line + 0
      tl = 1
    }
    END {
      if (n == 0 && tl) { P = tp; F = tf; S = ts }
      printf "%d %d %d %d\n", P, F, S, n
    }'
}

# The failed tests of a dotnet test log, each with the first lines of its message, so the tail of a CI log (which
# may be all anyone sees of it) names what failed. VSTest prints "  Failed Name [12 ms]" then "  Error Message:".
print_failed_tests() {
  plain_log "$1" | awk '
    /^ +Failed [^ ]+ \[/ { name = $2; print "[test] failed: " name; left = 14; shown++; next }
    left > 0 && /^ +Stack Trace:/ { left = 0; next }
    left > 0 && !/^ +Error Message:/ { print "    " $0; left-- }
    END { if (shown > 20) print "[test] (" shown " failed tests in all)" }' | head -n 200
}

# Start (or reuse) Postgres and export MOLECULE_TEST_POSTGRES: the admin connection on which tests and benchmarks
# create their scratch databases (the given ConnectionStrings__Postgres when there is one).
ensure_scratch_server() {
  local given_cs="${ConnectionStrings__Postgres:-}"
  ensure_postgres
  if [[ -n "$given_cs" ]]; then
    export MOLECULE_TEST_POSTGRES="${MOLECULE_TEST_POSTGRES:-$given_cs}"
  else
    export MOLECULE_TEST_POSTGRES="${MOLECULE_TEST_POSTGRES:-Host=127.0.0.1;Port=$MOLECULE_PG_PORT;Username=postgres;Database=postgres}"
  fi
}

# infra/checks' node packages (exact versions from its lockfile) go in before any test: the .NET tests spawn node
# (the state machine in aws-local-stepfunctions, dynalite for the dispatcher). No node means no test run at all.
# A focused run (second argument non-zero) reinstalls only when the lockfile changed since the last install.
install_checks() {
  need node "install Node.js 20 or later: the tests run the state machine and a DynamoDB emulator in node"
  need npm "install npm with Node.js"
  local lock=infra/checks/package-lock.json installed=infra/checks/node_modules/.package-lock.json
  if (($2)) && [[ -f "$installed" && ! "$lock" -nt "$installed" ]]; then
    return 0
  fi
  echo "[test] infra/checks: npm ci   (log: $1)"
  (cd infra/checks && npm ci --no-audit --no-fund) </dev/null >"$1" 2>&1 || {
    cat "$1" >&2
    echo "ERROR: npm ci in infra/checks failed; the tests need its packages" >&2
    exit 1
  }
}

cmd_test() {
  need dotnet "install the .NET 10 SDK"
  ensure_scratch_server
  echo "[test] ConnectionStrings__Postgres=$ConnectionStrings__Postgres"
  echo "[test] MOLECULE_TEST_POSTGRES=$MOLECULE_TEST_POSTGRES"
  local logdir="$REPO_ROOT/.local/logs" failed_steps=()
  mkdir -p "$logdir"
  install_checks "$logdir/npm-ci.log" "$#"
  if (($#)); then
    # a focused run while developing: only the .NET tests the arguments select, none of the other checks
    echo "[test] focused run: dotnet test Molecule.Serverless.sln -c Release $*"
    exec dotnet test Molecule.Serverless.sln -c Release "$@" </dev/null
  fi

  # ---- .NET
  local dlog="$logdir/dotnet-test.log" drc=0
  echo "[test] dotnet test Molecule.Serverless.sln -c Release   (log: $dlog)"
  dotnet test Molecule.Serverless.sln -c Release </dev/null 2>&1 | tee "$dlog" || drc=$?
  # with pipefail, drc is dotnet's status (tee does not fail)
  ((drc == 0)) || failed_steps+=("dotnet test (exit $drc)")
  infra/sam/check.sh </dev/null 2>&1 | tee "$logdir/aws-checks.log" || failed_steps+=("AWS packaging checks: infra/sam/check.sh (log: $logdir/aws-checks.log)")

  # ---- infra/checks (node): the state machine checks
  local nlog="$logdir/npm-checks.log" nrc=0
  echo "[test] infra/checks: npm test   (log: $nlog)"
  (cd infra/checks && npm test) </dev/null 2>&1 | tee "$nlog" || nrc=$?
  ((nrc == 0)) || failed_steps+=("infra/checks npm test (exit $nrc)")

  # ---- summary (node's test runner closes with "# pass N" and "# fail N")
  local p f s n np nf
  read -r p f s n < <(sum_dotnet_results "$dlog")
  np="$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$nlog" | tail -n 1)"
  nf="$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$nlog" | tail -n 1)"
  p=$((p + ${np:-0})) f=$((f + ${nf:-0}))
  echo
  ((f == 0)) || print_failed_tests "$dlog"
  echo "[test] dotnet: $n test project(s) reported results; infra/checks: ${np:-0} passed, ${nf:-0} failed"
  if ((${#failed_steps[@]})); then
    printf '[test] FAILED step: %s\n' "${failed_steps[@]}"
  fi
  echo "tests: $p passed, $f failed, $s skipped"
  ((${#failed_steps[@]} == 0))
}

# The HTTP benchmark's load generator: Debian's wrk (C, so it takes as little of the shared cores as a generator can).
ensure_wrk() {
  command -v wrk >/dev/null 2>&1 && return 0
  echo "[bench] installing Debian's wrk (the load generator)" >&2
  local sudo=""
  ((EUID == 0)) || sudo="sudo"
  $sudo apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk >&2
  need wrk "Debian package wrk"
}

cmd_bench() {
  need dotnet "install the .NET 10 SDK"
  [[ "${1:-}" == "api" ]] && ensure_wrk
  ensure_scratch_server
  echo "[bench] MOLECULE_TEST_POSTGRES=$MOLECULE_TEST_POSTGRES" >&2
  exec dotnet run -c Release --project bench/Molecule.Bench -- "$@"
}

cmd_stop() {
  stop_postgres
}

cmd_psql() {
  if [[ -n "${ConnectionStrings__Postgres:-}" ]]; then
    export_libpq_connection "$ConnectionStrings__Postgres"
    local psql_bin
    psql_bin="$(pg__find_bindir 2>/dev/null)/psql" || true
    [[ -x "$psql_bin" ]] || psql_bin="$(command -v psql || true)"
    [[ -n "$psql_bin" ]] || { echo "ERROR: psql not found" >&2; exit 1; }
    exec "$psql_bin" "$@"
  fi
  ensure_postgres
  exec "$PG_BIN/psql" -h 127.0.0.1 -p "$MOLECULE_PG_PORT" -U postgres -d molecule "$@"
}

main() {
  local cmd="${1:-}"
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    run) cmd_run "$@" ;;
    test) cmd_test "$@" ;;
    bench) cmd_bench "$@" ;;
    stop) cmd_stop "$@" ;;
    psql) cmd_psql "$@" ;;
    *) usage ;;
  esac
}

main "$@"
