#!/usr/bin/env bash
# Runs Keycloak in dev mode in the FOREGROUND, with realms imported from files.
#
#   KEYCLOAK_ADMIN_PASSWORD=... scripts/infra/run-keycloak.sh <port> <work-dir> <realm.json>...
#
# - HTTP on 127.0.0.1:<port>; the database is in memory (dev-mem), so every start is a fresh
#   server with exactly the realms given; the bootstrap admin is `admin` (master realm) with
#   KEYCLOAK_ADMIN_PASSWORD.
# - <work-dir>/keycloak-home is a per-run home: bin/ and conf/ are copied, lib/, providers/ and
#   themes/ link to the cached install (scripts/infra/install-keycloak.sh), data/ (the realm
#   import, temporary files) is this run's own.
# - The HTTP access log goes to stdout, one line per request: tests count JWKS fetches there.
# - The script `exec`s Keycloak, so the caller's PID is the server: SIGTERM it to stop.
#   Ready when /realms/<realm>/.well-known/openid-configuration answers 200.
#
# Env: KEYCLOAK_VERSION (see install-keycloak.sh), KEYCLOAK_JAVA_HOME (a JDK/JRE >= 17; default:
#      java on PATH when it is 17 or newer, else /usr/lib/jvm/temurin-25-jdk-amd64),
#      KEYCLOAK_HEAP (default "-Xms64m -Xmx512m").
set -euo pipefail

[ $# -ge 3 ] || { echo "usage: KEYCLOAK_ADMIN_PASSWORD=... $0 <port> <work-dir> <realm.json>..." >&2; exit 64; }
PORT="$1"
WORK_DIR="$2"
shift 2
case "$PORT" in ''|*[!0-9]*) echo "port must be a number: $PORT" >&2; exit 64;; esac
[ -n "${KEYCLOAK_ADMIN_PASSWORD:-}" ] || { echo "KEYCLOAK_ADMIN_PASSWORD must be set" >&2; exit 64; }

log() { printf '[run-keycloak] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
INSTALL="$("$HERE/install-keycloak.sh")"

java_major() { # $1 = java binary; prints the major version (17, 21, 25, ...)
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p' | head -n1
}
pick_java_home() {
  if [ -n "${KEYCLOAK_JAVA_HOME:-}" ]; then printf '%s\n' "$KEYCLOAK_JAVA_HOME"; return; fi
  local on_path
  if on_path="$(command -v java 2>/dev/null)" && [ "$(java_major "$on_path")" -ge 17 ] 2>/dev/null; then
    dirname "$(dirname "$(readlink -f "$on_path")")"; return
  fi
  if [ -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ]; then printf '%s\n' /usr/lib/jvm/temurin-25-jdk-amd64; return; fi
  die "no Java 17 or newer found (install Debian's openjdk-17-jre-headless, or set KEYCLOAK_JAVA_HOME)"
}
JAVA_HOME="$(pick_java_home)"
export JAVA_HOME
[ -x "$JAVA_HOME/bin/java" ] || die "$JAVA_HOME/bin/java is not executable"

timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" 2>/dev/null && die "127.0.0.1:$PORT is already in use"

KC_HOME="$WORK_DIR/keycloak-home"
rm -rf "$KC_HOME"
mkdir -p "$KC_HOME/data/import"
cp -R "$INSTALL/bin" "$INSTALL/conf" "$KC_HOME/"
for shared in lib providers themes; do ln -s "$INSTALL/$shared" "$KC_HOME/$shared"; done
for realm in "$@"; do
  [ -f "$realm" ] || die "realm file not found: $realm"
  cp "$realm" "$KC_HOME/data/import/"
done

export KC_BOOTSTRAP_ADMIN_USERNAME=admin
export KC_BOOTSTRAP_ADMIN_PASSWORD="$KEYCLOAK_ADMIN_PASSWORD"
unset KEYCLOAK_ADMIN_PASSWORD
export JAVA_OPTS_KC_HEAP="${KEYCLOAK_HEAP:--Xms64m -Xmx512m}"

log "starting Keycloak $(basename "$INSTALL" | sed 's/^keycloak-//') (pid $$, Java $(java_major "$JAVA_HOME/bin/java")) on 127.0.0.1:$PORT with $# realm file(s)"
exec "$KC_HOME/bin/kc.sh" start-dev \
  --http-host=127.0.0.1 --http-port="$PORT" \
  --db=dev-mem --import-realm \
  --http-access-log-enabled=true
