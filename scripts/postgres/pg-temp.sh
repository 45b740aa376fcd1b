#!/usr/bin/env bash
# pg-temp.sh — throw-away PostgreSQL cluster for tests, from Debian's package (installed when missing).
#
#   pg-temp.sh start   <dir>   init + start a cluster in <dir>; prints the URL on stdout:
#                                postgres://postgres@127.0.0.1:<port>/todos_test
#   pg-temp.sh stop    <dir>   fast shutdown (if running) and remove <dir>; idempotent
#   pg-temp.sh restart <dir>   stop (keeping data) and start again on the same port;
#                              prints the URL again
#   pg-temp.sh url     <dir>   print the URL of an existing cluster
#
# Layout of <dir>: data/ (PGDATA), log (server log), port, .pg-temp (marker),
# and the Unix socket .s.PGSQL.<port> (unix_socket_directories=<dir>).
#
# Runs as root (initdb/pg_ctl are run as the `postgres` user via runuser) or as an
# ordinary user (run directly). Server binaries come from /usr/lib/postgresql/<v>/bin
# (highest version); if missing, Debian's `postgresql` package is installed via apt.
# Progress goes to stderr; stdout carries only the URL.
#
# Env: PG_TEMP_DB (default todos_test), PG_TEMP_BINDIR (override server bin dir).
set -euo pipefail

DB_NAME="${PG_TEMP_DB:-todos_test}"
PG_USER_OS=postgres          # OS account that owns/runs the server when we are root
MARKER=.pg-temp
PROG="pg-temp"

log() { printf '[%s] %s\n' "$PROG" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "$PROG" "$*" >&2; exit 1; }

usage() {
  cat >&2 <<EOF
usage: $0 start|stop|restart|url <dir>
  start <dir>    create a cluster in <dir>, start it, create database '$DB_NAME',
                 print postgres://postgres@127.0.0.1:<port>/$DB_NAME
  stop <dir>     stop the server (if running) and remove <dir> (idempotent)
  restart <dir>  stop the server (keep data) and start it again on the same port
  url <dir>      print the URL of the cluster in <dir>
EOF
  exit 2
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# Run a command as the server's OS user (root -> postgres), always from <dir>
# so the server user never needs access to our cwd (e.g. /root).
as_pg() {
  if is_root; then
    (cd "$DIR" && runuser -u "$PG_USER_OS" -- "$@")
  else
    (cd "$DIR" && "$@")
  fi
}

# ---------------------------------------------------------------- binaries
find_bindir() {
  if [ -n "${PG_TEMP_BINDIR:-}" ]; then
    [ -x "$PG_TEMP_BINDIR/initdb" ] || die "PG_TEMP_BINDIR=$PG_TEMP_BINDIR has no executable initdb"
    printf '%s\n' "$PG_TEMP_BINDIR"; return 0
  fi
  local f
  f="$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n1 || true)"
  [ -n "$f" ] || return 1
  dirname "$f"
}

ensure_binaries() {
  if BINDIR="$(find_bindir)"; then return 0; fi
  is_root || die "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin and not root: install Debian package 'postgresql' (apt-get install postgresql)"
  command -v apt-get >/dev/null || die "PostgreSQL server binaries not found and apt-get is unavailable"
  # Serialise concurrent installers (parallel test workers).
  exec 9>/tmp/pg-temp-install.lock
  flock 9
  if BINDIR="$(find_bindir)"; then exec 9>&-; return 0; fi
  log "PostgreSQL server binaries not found; installing Debian package 'postgresql' (apt-get update + install)"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update >&2 \
    || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends postgresql >&2 \
    || die "apt-get install postgresql failed"
  exec 9>&-
  BINDIR="$(find_bindir)" || die "package 'postgresql' installed but no /usr/lib/postgresql/*/bin/initdb found"
}

ensure_pg_user() {
  is_root || return 0
  if ! id -u "$PG_USER_OS" >/dev/null 2>&1; then
    log "creating system user '$PG_USER_OS'"
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin "$PG_USER_OS" 2>/dev/null \
      || id -u "$PG_USER_OS" >/dev/null 2>&1 \
      || die "could not create system user '$PG_USER_OS'"
  fi
  command -v runuser >/dev/null || die "runuser (util-linux) not found; needed to run PostgreSQL as '$PG_USER_OS'"
}

# ---------------------------------------------------------------- helpers
free_port() {
  local p=""
  if command -v python3 >/dev/null 2>&1; then
    p="$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()' 2>/dev/null || true)"
  fi
  if [ -z "$p" ] && command -v node >/dev/null 2>&1; then
    p="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})' 2>/dev/null || true)"
  fi
  [[ "$p" =~ ^[0-9]+$ ]] || die "could not pick a free TCP port on 127.0.0.1 (needs python3 or node)"
  printf '%s\n' "$p"
}

url_for() { printf 'postgres://postgres@127.0.0.1:%s/%s\n' "$1" "$DB_NAME"; }

log_tail() {
  if [ -f "$DIR/log" ]; then
    printf '[%s] ---- last lines of server log %s ----\n' "$PROG" "$DIR/log" >&2
    tail -n 30 "$DIR/log" >&2 || true
    printf '[%s] ---- end of server log ----\n' "$PROG" >&2
  fi
}

fail_with_log() { printf '[%s] ERROR: %s\n' "$PROG" "$*" >&2; log_tail; exit 1; }

# Every ancestor of <dir> must be traversable (o+x) by the postgres user.
make_traversable() {
  is_root || return 0
  local d
  d="$(dirname "$DIR")"
  while [ "$d" != "/" ]; do
    if ! runuser -u "$PG_USER_OS" -- test -x "$d" 2>/dev/null; then
      log "making ancestor directory traversable for '$PG_USER_OS': chmod o+x $d"
      chmod o+x "$d" || die "cannot make $d traversable (chmod o+x) for user '$PG_USER_OS'"
    fi
    d="$(dirname "$d")"
  done
}

running() {
  # true if a server is running on $DIR/data
  [ -f "$DIR/data/postmaster.pid" ] || return 1
  [ -n "${BINDIR:-}" ] || return 0
  as_pg "$BINDIR/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1
}

write_conf() {
  local port="$1" sockdir="$DIR"
  # Unix socket paths are limited to ~107 bytes; fall back to TCP only.
  if [ $(( ${#DIR} + 20 )) -gt 107 ]; then
    log "warning: $DIR is too long for a Unix socket path; Unix socket disabled (TCP only)"
    sockdir=""
  fi
  cat >"$DIR/data/pg_temp.conf" <<EOF
# written by pg-temp.sh
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sockdir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
logging_collector = off
EOF
  is_root && chown "$PG_USER_OS": "$DIR/data/pg_temp.conf"
  printf '%s\n' "$port" >"$DIR/port"
}

# Start the server on the port in $DIR/port. If the port was stolen meanwhile
# (and $2 = pick-new), pick a new one and retry.
start_server() {
  local allow_new_port="$1" attempt port
  for attempt in 1 2 3 4 5; do
    port="$(cat "$DIR/port")"
    log "starting server on 127.0.0.1:$port (data $DIR/data, log $DIR/log)"
    if as_pg "$BINDIR/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w -t 30 start >/dev/null 2>"$DIR/pg_ctl.err"; then
      rm -f "$DIR/pg_ctl.err"
      return 0
    fi
    cat "$DIR/pg_ctl.err" >&2 || true
    if [ "$allow_new_port" = yes ] && grep -q 'Address already in use' "$DIR/log" 2>/dev/null; then
      log "port $port already in use (attempt $attempt); picking another"
      write_conf "$(free_port)"
      continue
    fi
    # pg_ctl timeout may leave a half-started server behind: kill it.
    if [ -f "$DIR/data/postmaster.pid" ]; then
      as_pg "$BINDIR/pg_ctl" -D "$DIR/data" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
    fi
    fail_with_log "pg_ctl start failed for $DIR/data on port $port"
  done
  fail_with_log "pg_ctl start: could not find a free port after 5 attempts"
}

stop_server() {
  [ -f "$DIR/data/postmaster.pid" ] || return 0
  local pid
  pid="$(head -n1 "$DIR/data/postmaster.pid" 2>/dev/null || true)"
  if [ -n "${BINDIR:-}" ]; then
    if running; then
      log "stopping server (pid ${pid:-?}) in $DIR"
      if as_pg "$BINDIR/pg_ctl" -D "$DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1; then
        return 0
      fi
      log "fast stop failed; trying immediate"
      as_pg "$BINDIR/pg_ctl" -D "$DIR/data" -m immediate -w -t 10 stop >/dev/null 2>&1 && return 0
    else
      return 0   # stale pid file
    fi
  fi
  # Last resort (or no binaries at all): signal the postmaster directly.
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
    log "killing postmaster pid $pid"
    kill -QUIT "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.2
    kill -0 "$pid" 2>/dev/null && die "could not stop postmaster pid $pid in $DIR"
  fi
  return 0
}

# ---------------------------------------------------------------- commands
cmd_start() {
  ensure_binaries
  ensure_pg_user
  log "using PostgreSQL binaries in $BINDIR"

  mkdir -p "$DIR" || die "cannot create directory $DIR"
  if [ -d "$DIR/data" ] && [ -f "$DIR/data/PG_VERSION" ]; then
    [ -f "$DIR/port" ] || die "$DIR/data exists but $DIR/port is missing; not a pg-temp cluster?"
    if running; then
      log "server in $DIR already running"
      url_for "$(cat "$DIR/port")"; return 0
    fi
    start_server no
    url_for "$(cat "$DIR/port")"; return 0
  fi
  if [ -n "$(ls -A "$DIR" 2>/dev/null)" ] && [ ! -f "$DIR/$MARKER" ]; then
    die "$DIR is not empty and is not a pg-temp directory; refusing to use it"
  fi
  touch "$DIR/$MARKER"
  chmod 755 "$DIR"
  if is_root; then chown "$PG_USER_OS": "$DIR" "$DIR/$MARKER" || die "cannot chown $DIR to $PG_USER_OS"; fi
  make_traversable

  local locale=C
  locale -a 2>/dev/null | grep -qix 'c.utf-\?8' && locale=C.UTF-8
  log "initdb $DIR/data (locale $locale)"
  if ! as_pg "$BINDIR/initdb" -D "$DIR/data" -A trust -U postgres --no-sync -E UTF8 --locale="$locale" >"$DIR/initdb.log" 2>&1; then
    cat "$DIR/initdb.log" >&2 || true
    die "initdb failed for $DIR/data (full output in $DIR/initdb.log)"
  fi
  printf "\ninclude 'pg_temp.conf'\n" >>"$DIR/data/postgresql.conf"
  write_conf "$(free_port)"

  start_server yes
  local port
  port="$(cat "$DIR/port")"
  log "creating database $DB_NAME"
  if ! "$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres \
        -c "CREATE DATABASE \"$DB_NAME\"" >/dev/null 2>"$DIR/createdb.err"; then
    cat "$DIR/createdb.err" >&2 || true
    fail_with_log "creating database $DB_NAME on 127.0.0.1:$port failed"
  fi
  rm -f "$DIR/createdb.err"
  log "ready: $(url_for "$port")"
  url_for "$port"
}

cmd_stop() {
  [ -e "$DIR" ] || { log "$DIR does not exist; nothing to do"; return 0; }
  BINDIR="$(find_bindir 2>/dev/null || true)"
  stop_server
  if [ -f "$DIR/$MARKER" ] || [ -z "$(ls -A "$DIR" 2>/dev/null)" ]; then
    rm -rf -- "$DIR" || die "could not remove $DIR"
    log "removed $DIR"
  else
    die "$DIR is not a pg-temp directory (no $MARKER marker); server stopped but directory left in place"
  fi
}

cmd_restart() {
  [ -f "$DIR/data/PG_VERSION" ] && [ -f "$DIR/port" ] || die "no pg-temp cluster in $DIR (run start first)"
  BINDIR="$(find_bindir)" || die "PostgreSQL server binaries not found"
  if is_root; then ensure_pg_user; fi
  stop_server
  start_server no
  url_for "$(cat "$DIR/port")"
}

cmd_url() {
  [ -f "$DIR/port" ] || die "no pg-temp cluster in $DIR"
  url_for "$(cat "$DIR/port")"
}

# ---------------------------------------------------------------- main
[ $# -eq 2 ] || usage
CMD="$1"
[ -n "$2" ] || usage
DIR="$(realpath -m -- "$2")"
case "$DIR" in
  /|/tmp|/root|/home|/var|/usr|/etc) die "refusing to use $DIR as a cluster directory" ;;
esac
BINDIR=""

case "$CMD" in
  start)   cmd_start ;;
  stop)    cmd_stop ;;
  restart) cmd_restart ;;
  url)     cmd_url ;;
  *)       usage ;;
esac
