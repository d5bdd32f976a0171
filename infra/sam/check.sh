#!/usr/bin/env bash
# The AWS deployment, checked offline (run by `infra/dev.sh test` after the .NET tests; any failure fails the run, and
# a missing tool is a failure, not a skip):
#
#   1. cfn-lint on template.yaml
#   2. template.yaml translated to CloudFormation with the samtranslator library (ASL inlined, code locations as
#      `sam package` leaves them), cfn-lint on that; and a control run proving that a ${...} in the ASL with no
#      DefinitionSubstitutions key fails it
#   3. structural assertions on the template, its translation, the Makefile and samconfig.toml
#   4. `make build-<LogicalId>` for every function (one Native AOT publish, shared), each artifact the one binary,
#      no glibc symbol newer than 2.34 (Amazon Linux 2023)
#   5. per function, the binary started with that function's environment answers /healthz and a fixture event on its
#      pass-through path; then the cold-start figure, AOT against JIT (printed, never asserted)
#
# Needs: python with cfn-lint and samtranslator (on PATH, else a pyenv installation), make, dotnet, objdump, psql,
# and MOLECULE_TEST_POSTGRES (infra/dev.sh sets it). Logs and build output go to .local/sam/.
set -euo pipefail
export PYTHONDONTWRITEBYTECODE=1

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
cd "$REPO_ROOT"

# shellcheck source=infra/postgres.sh
source "$REPO_ROOT/infra/postgres.sh"
WORK="$REPO_ROOT/.local/sam"
ARTIFACTS="$WORK/artifacts"
JIT="$WORK/jit"
FUNCTIONS=(ApiFunction OperationStepsFunction OrphanSweeperFunction InstanceReconcilerFunction MigrateFunction)
MAX_GLIBC="2.34"
mkdir -p "$WORK"

step() { echo; echo "[aws-checks] $*"; }
die() { echo "[aws-checks] FAILED: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' is not on PATH ($2)"; }

# ---------------------------------------------------------------------------------------------------- tools
need make "Debian package make"
need dotnet "the .NET 10 SDK"
need objdump "Debian package binutils"
need flock "Debian package util-linux"

find_python() {
  local candidate dir
  local candidates=()
  if command -v cfn-lint >/dev/null 2>&1; then
    dir="$(dirname "$(readlink -f "$(command -v cfn-lint)")")"
    candidates+=("$dir/python3" "$dir/python")
  fi
  candidates+=("$(command -v python3 || true)")
  for dir in $(ls -d "$HOME"/.pyenv/versions/*/bin 2>/dev/null | sort -rV); do
    candidates+=("$dir/python3")
  done
  for candidate in "${candidates[@]}"; do
    [[ -n "$candidate" && -x "$candidate" ]] || continue
    if "$candidate" -c 'import cfnlint, samtranslator' >/dev/null 2>&1; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}
PY="$(find_python)" || die "no python with cfn-lint and samtranslator (looked on PATH and in ~/.pyenv/versions/*/bin)"
cfn_lint() { "$PY" -c 'import sys; from cfnlint.runner import main; sys.exit(main())' "$@"; }
echo "[aws-checks] python: $PY (cfn-lint $("$PY" -c 'import cfnlint.version as v; print(v.__version__)'), samtranslator $("$PY" -c 'import samtranslator; print(samtranslator.__version__)'))"

find_psql() {
  command -v psql 2>/dev/null && return 0
  ls -d /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -rV | head -1 | grep . && return 0
  return 1
}
PSQL="$(find_psql)" || die "psql not found (Debian package postgresql-client)"
[[ -n "${MOLECULE_TEST_POSTGRES:-}" ]] || die "MOLECULE_TEST_POSTGRES is not set (run through infra/dev.sh test)"

# From here every stage runs that can (a stage needing an earlier one's output is skipped when that one failed), and
# the script fails at the end if any did, so one run shows every problem.
ASL=infra/statemachines/workspace-operation.asl.json
BINARY="$ARTIFACTS/ApiFunction/Molecule.Api"
FAILED=()
fail() { echo "  FAIL $*" >&2; FAILED+=("$*"); return 1; }

# ---------------------------------------------------------------------------------------------------- 1-3 the template
stage_lint() {
  step "cfn-lint template.yaml"
  cfn_lint template.yaml || fail "cfn-lint found problems in template.yaml"
}

stage_translate() {
  step "samtranslator: template.yaml -> CloudFormation (ASL inlined, code at a placeholder S3 location), then cfn-lint"
  [[ -f "$ASL" ]] || { fail "$ASL is missing"; return 1; }
  (cd infra/sam && "$PY" translate.py "$REPO_ROOT/template.yaml" "$WORK/translated.json") || { fail "the SAM translation failed"; return 1; }
  cfn_lint "$WORK/translated.json" || fail "cfn-lint found problems in the translated template"
}

stage_control() {
  step "control: an ASL with a \${...} that has no DefinitionSubstitutions key must fail the translated lint"
  sed 's/\${StepsFunctionArn}/${NoSuchSubstitution}/' "$ASL" >"$WORK/control.asl.json"
  grep -q 'NoSuchSubstitution' "$WORK/control.asl.json" || { fail "control: the ASL has no \${StepsFunctionArn} to replace"; return 1; }
  (cd infra/sam && "$PY" translate.py "$REPO_ROOT/template.yaml" "$WORK/control.json" --asl "$WORK/control.asl.json") \
    || { fail "control: the SAM translation failed"; return 1; }
  if cfn_lint "$WORK/control.json" >"$WORK/control-lint.log" 2>&1; then
    fail "control: cfn-lint accepted an unmatched \${NoSuchSubstitution}"
    return 1
  fi
  grep -q 'NoSuchSubstitution' "$WORK/control-lint.log" || { fail "control: cfn-lint failed, but not on the unmatched substitution"; return 1; }
  echo "  ok   the unmatched substitution was reported: $(grep -m1 NoSuchSubstitution "$WORK/control-lint.log")"
}

stage_structure() {
  step "structural assertions (template, translation, Makefile, samconfig.toml)"
  (cd infra/sam && "$PY" template_checks.py "$WORK/translated.json") || fail "structural assertions failed (FAIL lines above)"
}

# ---------------------------------------------------------------------------------------------------- 4 the build
stage_build() {
  step "make build-<LogicalId> for every function (one Native AOT publish, shared)"
  rm -rf "$ARTIFACTS"
  local fn contents
  for fn in "${FUNCTIONS[@]}"; do
    make --no-print-directory "build-$fn" ARTIFACTS_DIR="$ARTIFACTS/$fn" || { fail "make build-$fn failed"; return 1; }
  done
  for fn in "${FUNCTIONS[@]}"; do
    contents="$(cd "$ARTIFACTS/$fn" && ls -A)"
    [[ "$contents" == "Molecule.Api" && -x "$ARTIFACTS/$fn/Molecule.Api" ]] \
      || { fail "$fn: the artifact must be the one executable Molecule.Api (has: $contents)"; return 1; }
    cmp -s "$ARTIFACTS/$fn/Molecule.Api" "$BINARY" || { fail "$fn: not the same binary as ApiFunction's"; return 1; }
  done
  objdump -f "$BINARY" | grep -q 'elf64-x86-64' || { fail "the binary is not an x86-64 ELF"; return 1; }
  echo "  ok   5 artifacts, one identical x86-64 binary: $(du -h "$BINARY" | cut -f1) ($(stat -c %s "$BINARY") bytes); zipped $(cd "$ARTIFACTS/ApiFunction" && "$PY" -c '
import io, zipfile
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
    z.write("Molecule.Api")
print(f"{len(buffer.getvalue()) / 1048576:.1f} MiB")')"
}

stage_glibc() {
  step "glibc: no symbol newer than $MAX_GLIBC (Amazon Linux 2023)"
  local newest
  newest="$(objdump -T "$BINARY" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)"
  [[ -n "$newest" ]] || { fail "objdump -T found no GLIBC symbol versions in the binary"; return 1; }
  [[ "$(printf '%s\n%s\n' "$newest" "$MAX_GLIBC" | sort -V | tail -1)" == "$MAX_GLIBC" ]] \
    || { fail "the binary needs GLIBC_$newest (> $MAX_GLIBC)"; return 1; }
  echo "  ok   newest GLIBC symbol version: $newest"
}

# ---------------------------------------------------------------------------------------------------- 5 the Lambda contract
# psql on the test server's admin connection (MOLECULE_TEST_POSTGRES, Npgsql "Key=Value;..." form); a key it leaves
# out takes the default below, never the caller's PG* environment (a subshell: nothing is exported to the script)
admin_psql() (
  export PGHOST=127.0.0.1 PGPORT=5432 PGUSER=postgres PGPASSWORD="" PGDATABASE=postgres
  export_libpq_connection "$MOLECULE_TEST_POSTGRES"
  "$PSQL" -X -q -v ON_ERROR_STOP=1 "$@"
)

stage_contract() {
  step "JIT build for the cold-start comparison (framework-dependent)"
  dotnet publish src/Molecule.Api/Molecule.Api.csproj -c Release -p:PublishAot=false -o "$JIT" --nologo -v quiet </dev/null >"$WORK/jit-publish.log" 2>&1 \
    || { tail -20 "$WORK/jit-publish.log" >&2; fail "the JIT publish failed"; return 1; }

  # a fresh database on the test server, dropped at exit
  CHECK_DB="molecule_awscheck_$("$PY" -c 'import secrets; print(secrets.token_hex(6))')"
  admin_psql -c "CREATE DATABASE $CHECK_DB" || { fail "could not create the check database"; return 1; }
  trap 'admin_psql -c "DROP DATABASE IF EXISTS $CHECK_DB WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
  local connection
  connection="$("$PY" -c '
import sys
parts = [p for p in sys.argv[1].split(";") if p.strip() and p.split("=", 1)[0].strip().lower() not in ("database", "db")]
print(";".join(parts + [f"Database={sys.argv[2]}"]))' "$MOLECULE_TEST_POSTGRES" "$CHECK_DB")"

  step "per function: the binary with that function's environment, /healthz and a fixture event (database: $CHECK_DB)"
  (cd infra/sam && "$PY" lambda_contract.py --artifacts "$ARTIFACTS" --jit "$JIT" --database "$connection" --cold-runs "${MOLECULE_COLD_RUNS:-5}") \
    || fail "the Lambda contract failed (FAIL lines above)"
}

# ---------------------------------------------------------------------------------------------------- run
stage_lint || true
if stage_translate; then
  stage_structure || true
fi
if [[ -f "$ASL" ]]; then
  stage_control || true
fi
if stage_build; then
  stage_glibc || true
  stage_contract || true
fi

echo
if ((${#FAILED[@]})); then
  printf '[aws-checks] FAILED: %s\n' "${FAILED[@]}"
  exit 1
fi
echo "[aws-checks] all passed"
