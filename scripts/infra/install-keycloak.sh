#!/usr/bin/env bash
# Installs the Keycloak server distribution from Maven Central and prints its home dir on stdout.
#
#   scripts/infra/install-keycloak.sh        -> .../todo-graphql-dapr/keycloak-<version>
#
# The distribution is org.keycloak:keycloak-quarkus-dist (a zip, ~170 MB), fetched with mvn and
# unpacked into the cache once. Run it with scripts/infra/run-keycloak.sh. Needs mvn, and unzip or python3.
#
# Env:
#   KEYCLOAK_VERSION  (default 26.7.3: the newest served here that runs on OpenJDK 17, checked by
#                     starting it in dev mode; 26.7.4 is not served)
#   MVN               maven command (default: mvn)
set -euo pipefail

KEYCLOAK_VERSION="${KEYCLOAK_VERSION:-26.7.3}"
MVN="${MVN:-mvn}"
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/todo-graphql-dapr"
HOME_DIR="$CACHE_ROOT/keycloak-$KEYCLOAK_VERSION"
STAMP="$HOME_DIR/.complete"

log() { printf '[install-keycloak] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [ -f "$STAMP" ] && [ -f "$HOME_DIR/lib/quarkus-run.jar" ]; then
  log "using cached Keycloak $KEYCLOAK_VERSION at $HOME_DIR"
  printf '%s\n' "$HOME_DIR"; exit 0
fi

command -v "$MVN" >/dev/null 2>&1 || die "mvn not found (install Debian's maven)"
command -v unzip >/dev/null 2>&1 || command -v python3 >/dev/null 2>&1 || die "neither unzip nor python3 found"

mkdir -p "$CACHE_ROOT"
WORK="$(mktemp -d "$CACHE_ROOT/.keycloak-install.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

log "fetching org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip from Maven Central"
start=$(date +%s)
if ! "$MVN" -B -q dependency:copy -Dartifact="org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" \
      -DoutputDirectory="$WORK" >"$WORK/mvn.log" 2>&1; then
  tail -n 40 "$WORK/mvn.log" >&2
  die "mvn could not fetch Keycloak $KEYCLOAK_VERSION (is that version on Maven Central? set KEYCLOAK_VERSION)"
fi
ZIP="$WORK/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip"
[ -f "$ZIP" ] || die "$ZIP missing after mvn"
log "downloaded $(( $(stat -c %s "$ZIP") / 1024 / 1024 )) MB in $(( $(date +%s) - start ))s; unpacking"
if command -v unzip >/dev/null 2>&1; then
  unzip -q "$ZIP" -d "$WORK/unpacked"
else
  python3 -m zipfile -e "$ZIP" "$WORK/unpacked"   # keeps no file modes: the scripts need theirs back
  chmod +x "$WORK/unpacked/keycloak-$KEYCLOAK_VERSION"/bin/*.sh
fi
[ -f "$WORK/unpacked/keycloak-$KEYCLOAK_VERSION/lib/quarkus-run.jar" ] || die "unexpected layout in $ZIP"

rm -rf "$HOME_DIR"
mv "$WORK/unpacked/keycloak-$KEYCLOAK_VERSION" "$HOME_DIR"
printf '%s\n' "$KEYCLOAK_VERSION" >"$STAMP"
log "installed Keycloak $KEYCLOAK_VERSION into $HOME_DIR ($(du -sm "$HOME_DIR" | cut -f1) MB) in $(( $(date +%s) - start ))s"
printf '%s\n' "$HOME_DIR"
