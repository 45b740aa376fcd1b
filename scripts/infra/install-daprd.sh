#!/usr/bin/env bash
# Prints the absolute path of a working daprd on stdout (progress goes to stderr).
#
# Lookup order:
#   1. daprd on PATH
#   2. ~/.dapr/bin/daprd (where `dapr init` puts it)
#   3. cached build: ${XDG_CACHE_HOME:-$HOME/.cache}/todo-graphql-dapr/daprd-<version>/daprd
#   4. build it from the Go module proxy into that cache (long: ~10+ min on 2 cores)
#
# Env:
#   DAPR_VERSION      dapr version to build (default 1.18.2: 1.18.3 cannot be built from this
#                     workplace's Go module proxy, which refuses github.com/dapr/durabletask-go
#                     v0.12.4, github.com/iskorotkov/avro/v2 v2.33.1 and the
#                     github.com/twmb/pulsar-client-go replacement that 1.18.3 needs)
#   DAPRD_BUILD_JOBS  go build -p value (default: number of CPUs)
#   DAPRD_FORCE_BUILD=1  skip steps 1-2 (still reuses the cache)
set -euo pipefail

DAPR_VERSION="${DAPR_VERSION:-1.18.2}"
DAPR_VERSION="${DAPR_VERSION#v}"
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/todo-graphql-dapr"
CACHE_DIR="$CACHE_ROOT/daprd-$DAPR_VERSION"
CACHED_BIN="$CACHE_DIR/daprd"

log() { printf '[install-daprd] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

works() { # $1 = candidate binary
  [ -x "$1" ] && "$1" --version >/dev/null 2>&1
}

abspath() { (cd "$(dirname "$1")" && printf '%s/%s\n' "$(pwd -P)" "$(basename "$1")"); }

if [ "${DAPRD_FORCE_BUILD:-0}" != 1 ]; then
  if p="$(command -v daprd 2>/dev/null)" && works "$p"; then
    log "using daprd from PATH ($("$p" --version 2>/dev/null | head -n1))"
    abspath "$p"; exit 0
  fi
  if works "$HOME/.dapr/bin/daprd"; then
    log "using ~/.dapr/bin/daprd ($("$HOME/.dapr/bin/daprd" --version 2>/dev/null | head -n1))"
    abspath "$HOME/.dapr/bin/daprd"; exit 0
  fi
fi
if works "$CACHED_BIN"; then
  log "using cached build $CACHED_BIN ($("$CACHED_BIN" --version 2>/dev/null | head -n1))"
  printf '%s\n' "$CACHED_BIN"; exit 0
fi

command -v go >/dev/null 2>&1 || die "daprd not found and Go is not installed (need Go >= the 'go' line of dapr's go.mod)"

MODULE="github.com/dapr/dapr"
log "daprd not found; building $MODULE@v$DAPR_VERSION from the Go module proxy (this takes a while)"

# Make sure module downloads work without a go.mod in cwd and without an inherited -mod flag.
DL_ENV=(env GOFLAGS= GO111MODULE=on)

download() { # prints `go mod download -json` output; returns non-zero on failure
  (cd "${TMPDIR:-/tmp}" && "${DL_ENV[@]}" "$@" go mod download -json "$MODULE@v$DAPR_VERSION")
}
json_field() { # $1 = field name; reads JSON on stdin (flat string fields only)
  sed -n "s/^[[:space:]]*\"$1\":[[:space:]]*\"\(.*\)\",\{0,1\}\$/\1/p" | head -n1
}

if ! DL_JSON="$(download 2>&1)"; then
  if printf '%s' "$DL_JSON" | grep -qiE 'verifying|sumdb|sum\.golang\.org|checksum database|GOSUMDB'; then
    log "checksum database unreachable for $MODULE; retrying that one module with GOSUMDB=off"
    log "(dapr's own go.sum still pins every dependency of the build)"
    DL_JSON="$(download GOSUMDB=off 2>&1)" || { printf '%s\n' "$DL_JSON" >&2; die "go mod download $MODULE@v$DAPR_VERSION failed"; }
  else
    printf '%s\n' "$DL_JSON" >&2
    log "available versions: $(cd /tmp && "${DL_ENV[@]}" go list -m -versions "$MODULE" 2>/dev/null || true)"
    die "go mod download $MODULE@v$DAPR_VERSION failed (set DAPR_VERSION to another version)"
  fi
fi
MOD_DIR="$(printf '%s\n' "$DL_JSON" | json_field Dir)"
[ -n "$MOD_DIR" ] && [ -d "$MOD_DIR" ] || { printf '%s\n' "$DL_JSON" >&2; die "could not find the module dir in go mod download output"; }
log "module source: $MOD_DIR"

# Check the toolchain is new enough (GOTOOLCHAIN=local refuses to build otherwise).
need_go="$(sed -n 's/^go \([0-9][0-9.]*\).*/\1/p' "$MOD_DIR/go.mod" | head -n1)"
have_go="$(go env GOVERSION)"; have_go="${have_go#go}"
if [ -n "$need_go" ] && [ "$(printf '%s\n%s\n' "$need_go" "$have_go" | sort -V | head -n1)" != "$need_go" ]; then
  die "dapr v$DAPR_VERSION needs Go $need_go but Go $have_go is installed; set DAPR_VERSION to an older dapr (go list -m -versions $MODULE), or put a newer go first on PATH"
fi

mkdir -p "$CACHE_DIR"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/daprd-build.XXXXXX")"
TMP_BIN="$CACHE_DIR/.daprd.tmp.$$"
cleanup() { rm -rf "$WORK"; rm -f "$TMP_BIN"; rmdir "$CACHE_DIR" 2>/dev/null || true; [ -n "${TICKER_PID:-}" ] && kill "$TICKER_PID" 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM

cp -R "$MOD_DIR/." "$WORK/src"
chmod -R u+w "$WORK/src"

# Pre-flight: resolve every package of the build first, so a module the proxy refuses is
# reported in seconds instead of after a long compile.
log "resolving the package graph (go list -deps)"
if ! (cd "$WORK/src" && CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=readonly \
        go list -deps -tags stablecomponents ./cmd/daprd >"$WORK/deps.txt" 2>"$WORK/deps.err"); then
  refused="$(sed -n 's/.*: \([^ :]*@v[^:]*\): reading .*: \(40[0-9] [A-Za-z ]*\)$/\1 (\2)/p' "$WORK/deps.err" | sort -u)"
  if [ -n "$refused" ]; then
    log "modules the proxy refuses:"; printf '%s\n' "$refused" | sed 's/^/  /' >&2
  else
    grep -v '^go: downloading' "$WORK/deps.err" | head -n 20 >&2 || true
  fi
  die "dapr v$DAPR_VERSION cannot be built here: the Go module proxy does not serve some of its dependencies (see above); try another DAPR_VERSION (go list -m -versions $MODULE)"
fi

TOTAL=$(wc -l <"$WORK/deps.txt" | tr -d ' ')

JOBS="${DAPRD_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}"
NICE=()
command -v nice >/dev/null 2>&1 && NICE=(nice -n 10)

log "go build (-p $JOBS, niced); progress: packages compiled, every 30 s"
start=$(date +%s)
COUNT_FILE="$WORK/count"; echo 0 >"$COUNT_FILE"
(
  while sleep 30; do
    log "still building... $(( $(date +%s) - start ))s, $(cat "$COUNT_FILE" 2>/dev/null || echo 0) of <=$TOTAL packages compiled"
  done
) &
TICKER_PID=$!

set +e
(
  cd "$WORK/src" &&
  CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=readonly \
  "${NICE[@]}" go build -v -p "$JOBS" -trimpath -tags stablecomponents \
    -ldflags "-s -w -X github.com/dapr/dapr/pkg/buildinfo.version=$DAPR_VERSION -X github.com/dapr/kit/logger.DaprVersion=$DAPR_VERSION" \
    -o "$TMP_BIN" ./cmd/daprd
) 2>&1 | {
  n=0
  while IFS= read -r line; do
    case "$line" in
      *:*|*' '*) printf '%s\n' "$line" >&2 ;;   # errors / non-package lines: show them
      *) n=$((n + 1)); echo "$n" >"$COUNT_FILE" ;;
    esac
  done
}
rc=${PIPESTATUS[0]}
set -e
kill "$TICKER_PID" 2>/dev/null || true; wait "$TICKER_PID" 2>/dev/null || true; TICKER_PID=

[ "$rc" -eq 0 ] || die "go build failed (exit $rc) after $(( $(date +%s) - start ))s"
works "$TMP_BIN" || die "built binary does not answer --version"
mv -f "$TMP_BIN" "$CACHED_BIN"
log "built $CACHED_BIN in $(( $(date +%s) - start ))s ($("$CACHED_BIN" --version 2>/dev/null | head -n1))"
printf '%s\n' "$CACHED_BIN"
