#!/usr/bin/env bash
# Runs the example consumer: the FastAPI app and its own daprd (app id todo-events-consumer, the
# component in ./components: a stable consumer group, oldest offset first), against a Kafka broker.
# Ctrl-C (or SIGTERM) stops both. Installs what it needs: the virtualenv (venv.sh) and daprd.
#
# Env: KAFKA_BROKERS (127.0.0.1:9092), APP_PORT (8001), DAPR_HTTP_PORT (3501), DAPR_GRPC_PORT (50011),
#      DAPR_INTERNAL_GRPC_PORT (50012), DAPR_METRICS_PORT (9091), CONSUMER_STATE (./data/consumer.db),
#      APP_API_TOKEN (a fresh one by default), plus what app.py reads (PUBSUB_NAME, TODO_EVENTS_TOPIC, ...).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
repo="$(cd "$here/../.." && pwd -P)"
log() { printf '[python-consumer] %s\n' "$*" >&2; }

brokers="${KAFKA_BROKERS:-127.0.0.1:9092}"
app_port="${APP_PORT:-8001}"
export CONSUMER_STATE="${CONSUMER_STATE:-$here/data/consumer.db}"

python="$(bash "$here/venv.sh")"
daprd="$(bash "$repo/scripts/infra/install-daprd.sh")"
# The sidecar and the app authenticate each other's calls with it.
APP_API_TOKEN="${APP_API_TOKEN:-$("$python" -c 'import secrets; print(secrets.token_hex(24))')}"
export APP_API_TOKEN

work="$(mktemp -d)"
mkdir -p "$work/resources"
sed "s#value: \"127.0.0.1:9092\"#value: \"$brokers\"#" "$here/components/kafka-pubsub.yaml" >"$work/resources/kafka-pubsub.yaml"

pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap stop EXIT
trap 'stop; exit 0' INT TERM

# The app first: daprd asks it for its subscriptions (GET /dapr/subscribe) as it starts.
# Loopback only: /summary is for the operator.
(cd "$here" && exec "$python" -m uvicorn app:app --host 127.0.0.1 --port "$app_port" --log-level warning) &
pids+=($!)
bash "$repo/scripts/infra/wait-port.sh" 127.0.0.1 "$app_port" 60 "${pids[0]}" >/dev/null

DAPR_APP_ID=todo-events-consumer DAPRD="$daprd" DAPR_LOG_LEVEL="${DAPR_LOG_LEVEL:-warn}" \
  bash "$repo/scripts/infra/run-daprd.sh" "$work/resources" "${DAPR_HTTP_PORT:-3501}" "${DAPR_GRPC_PORT:-50011}" \
  "${DAPR_INTERNAL_GRPC_PORT:-50012}" "${DAPR_METRICS_PORT:-9091}" "$app_port" &
pids+=($!)
log "consuming todo-events from $brokers; summary at http://127.0.0.1:$app_port/summary"
wait -n "${pids[@]}"
