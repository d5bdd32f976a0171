#!/usr/bin/env bash
# Publishes the host (src/Molecule.Api) with Native AOT for linux-x64 into one shared directory, once for every
# function: `sam build` runs one make target per function (it never merges makefile builds), and each target only
# copies this binary. Serialised with a lock (sam build --parallel), and skipped when nothing that goes into the
# binary changed since the last publish (a content hash of the inputs, kept beside it).
#
#   infra/sam/publish-aot.sh OUT_DIR      -> OUT_DIR/Molecule.Api (stripped; symbols in OUT_DIR/Molecule.Api.dbg)
#
# Native AOT links with clang: `clang` on PATH, else the newest clang-NN, else Debian's clang is installed with apt-get.
# Trim and AOT warnings fail the publish (TreatWarningsAsErrors plus a scan of the log: the ILCompiler's warnings
# are not all turned into errors by MSBuild).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
OUT="${1:?usage: infra/sam/publish-aot.sh OUT_DIR}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd -P)"
BINARY="$OUT/Molecule.Api"
STAMP="$OUT/.inputs.sha256"
LOG="$OUT/publish.log"

log() { echo "[publish-aot] $*" >&2; }

inputs_hash() {
  # every file that can change the binary: sources, project files, central package versions, SDK pin, this script
  (
    cd "$REPO_ROOT"
    {
      printf '%s\n' global.json Directory.Build.props Directory.Packages.props infra/sam/publish-aot.sh
      find src -type f \( -name '*.cs' -o -name '*.csproj' -o -name '*.sql' -o -name '*.json' -o -name '*.props' -o -name '*.targets' \) \
        -not -path '*/bin/*' -not -path '*/obj/*'
      [[ -f nuget.config ]] && echo nuget.config
    } | LC_ALL=C sort | while read -r f; do printf '%s  ' "$f"; sha256sum <"$f" | cut -d' ' -f1; done
    dotnet --version
  ) | sha256sum | cut -d' ' -f1
}

find_clang() {
  local c
  if c="$(command -v clang 2>/dev/null)"; then echo "$c"; return 0; fi
  c="$(compgen -c clang- 2>/dev/null | grep -E '^clang-[0-9]+$' | sort -t- -k2 -n | tail -1 || true)"
  if [[ -n "$c" ]]; then command -v "$c"; return 0; fi
  return 1
}

ensure_clang() {
  local c
  if c="$(find_clang)"; then echo "$c"; return 0; fi
  log "no clang on PATH: installing Debian's clang (Native AOT links with it)"
  if command -v apt-get >/dev/null 2>&1; then
    local sudo=""
    ((EUID == 0)) || sudo="sudo"
    $sudo apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq clang >&2
  fi
  find_clang || { log "ERROR: no clang and none could be installed"; return 1; }
}

publish() {
  local clang
  clang="$(ensure_clang)"
  log "dotnet publish -r linux-x64 Native AOT (linker: $clang); log: $LOG"
  rm -f "$BINARY" "$STAMP"
  local rc=0
  dotnet publish "$REPO_ROOT/src/Molecule.Api/Molecule.Api.csproj" -c Release -r linux-x64 \
    -p:PublishAot=true -p:StripSymbols=true -p:TrimmerSingleWarn=false -p:TreatWarningsAsErrors=true \
    -p:CppCompilerAndLinker="$clang" -o "$OUT" --nologo </dev/null >"$LOG" 2>&1 || rc=$?
  if ((rc != 0)); then
    tail -40 "$LOG" >&2
    log "ERROR: publish failed (exit $rc)"
    return 1
  fi
  # the ILCompiler reports trim/AOT problems of referenced packages as warnings at this stage: none is acceptable
  if grep -E 'warning (IL[0-9]{4}|IL[0-9]{4}:)' "$LOG" >&2; then
    log "ERROR: the publish reported trim/AOT warnings (above)"
    return 1
  fi
  [[ -x "$BINARY" ]] || { log "ERROR: $BINARY was not produced"; return 1; }
}

main() {
  exec 9>"$OUT/.lock"
  flock 9
  local want
  want="$(inputs_hash)"
  if [[ -x "$BINARY" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
    log "up to date: $BINARY"
    return 0
  fi
  publish
  echo "$want" >"$STAMP"
  log "built $BINARY ($(du -h "$BINARY" | cut -f1))"
}

main
