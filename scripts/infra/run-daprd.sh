#!/usr/bin/env bash
# Runs daprd standalone (self-hosted, no placement/scheduler, everything on 127.0.0.1) in the
# FOREGROUND: the script execs daprd, so the caller's PID is daprd (SIGTERM -> exit 0).
#
#   scripts/infra/run-daprd.sh <resources-dir> <http-port> <grpc-port> <internal-grpc-port> <metrics-port> [app-port] [-- extra daprd flags]
#
# Without [app-port] daprd needs no app: /v1.0/healthz/outbound and publishing work, and
# /v1.0/healthz answers 204.  With an app port, /v1.0/healthz answers 500 until the app
# listens there (publishing works before that).  Ready when
#   curl -fsS http://127.0.0.1:<http-port>/v1.0/healthz/outbound   answers 204.
# Components are initialised before the API opens; a component that cannot init (e.g.
# pubsub.kafka with the broker down) makes daprd exit 1 within seconds: start Kafka first.
#
# Env: DAPR_APP_ID (default todo-api), DAPR_LOG_LEVEL (default info), DAPRD (binary; default:
#      scripts/infra/install-daprd.sh), APP_API_TOKEN / DAPR_API_TOKEN are passed through by daprd.
set -euo pipefail

if [ $# -lt 5 ]; then
  echo "usage: $0 <resources-dir> <http-port> <grpc-port> <internal-grpc-port> <metrics-port> [app-port] [-- extra daprd flags]" >&2
  exit 64
fi
RES="$1" HTTP_PORT="$2" GRPC_PORT="$3" INTERNAL_PORT="$4" METRICS_PORT="$5"
shift 5
APP_ARGS=()
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
  APP_ARGS=(--app-port "$1" --app-protocol http --app-channel-address 127.0.0.1)
  shift
fi
[ $# -gt 0 ] && [ "$1" = "--" ] && shift

[ -d "$RES" ] || { echo "[run-daprd] resources dir not found: $RES" >&2; exit 1; }
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
DAPRD="${DAPRD:-$("$HERE/install-daprd.sh")}"

echo "[run-daprd] $DAPRD: app-id ${DAPR_APP_ID:-todo-api}, http $HTTP_PORT, grpc $GRPC_PORT, internal $INTERNAL_PORT, metrics $METRICS_PORT${APP_ARGS:+, app ${APP_ARGS[1]}}, resources $RES" >&2
exec "$DAPRD" \
  --app-id "${DAPR_APP_ID:-todo-api}" \
  --dapr-http-port "$HTTP_PORT" \
  --dapr-grpc-port "$GRPC_PORT" \
  --dapr-internal-grpc-port "$INTERNAL_PORT" \
  --dapr-internal-grpc-listen-address 127.0.0.1 \
  --dapr-listen-addresses 127.0.0.1 \
  --metrics-port "$METRICS_PORT" \
  --metrics-listen-address 127.0.0.1 \
  --resources-path "$RES" \
  --log-level "${DAPR_LOG_LEVEL:-info}" \
  "${APP_ARGS[@]}" "$@"
