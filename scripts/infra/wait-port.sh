#!/usr/bin/env bash
# Waits until <host>:<port> accepts a TCP connection.
#
#   scripts/infra/wait-port.sh <host> <port> <timeout-s> [pid]
#
# Exit 0 when the port accepts (prints the seconds waited on stdout), 1 on timeout,
# 2 when the optional [pid] exits first (e.g. the server you are waiting for crashed).
set -euo pipefail

[ $# -ge 3 ] || { echo "usage: $0 <host> <port> <timeout-s> [pid]" >&2; exit 64; }
HOST="$1" PORT="$2" TIMEOUT="$3" PID="${4:-}"

log() { printf '[wait-port] %s\n' "$*" >&2; }

probe() {
  if command -v timeout >/dev/null 2>&1; then
    timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$PORT" 2>/dev/null
  else
    bash -c "exec 3<>/dev/tcp/$HOST/$PORT" 2>/dev/null
  fi
}

start=$(date +%s%N)
deadline=$(( $(date +%s) + TIMEOUT ))
last_note=$(date +%s)
while :; do
  if probe; then
    elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
    log "$HOST:$PORT is accepting connections (after ${elapsed}ms)"
    printf '%d.%03d\n' $((elapsed / 1000)) $((elapsed % 1000))
    exit 0
  fi
  if [ -n "$PID" ] && ! kill -0 "$PID" 2>/dev/null; then
    log "process $PID exited before $HOST:$PORT accepted connections"
    exit 2
  fi
  now=$(date +%s)
  if [ "$now" -ge "$deadline" ]; then
    log "timed out after ${TIMEOUT}s waiting for $HOST:$PORT"
    exit 1
  fi
  if [ $((now - last_note)) -ge 5 ]; then
    log "waiting for $HOST:$PORT... $(( now - start / 1000000000 ))s"
    last_note=$now
  fi
  sleep 0.2
done
