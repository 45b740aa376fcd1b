#!/usr/bin/env bash
# `npm run dev`: the whole loop on one machine with the embedded defaults — a
# real daprd sidecar (local profile: pubsub.in-memory named kafka-pubsub, the
# declarative subscription back to the API) and the API on SQLite. Prints the
# Sandbox URL and a development token; Ctrl-C stops both.
#
# `npm run dev -- --kafka` runs a local Kafka broker on 127.0.0.1:$KAFKA_PORT as well and gives the
# sidecar the `kafka` profile, so other processes (examples/python-consumer) can read the topic:
# the in-memory broker lives inside this one sidecar.
#
# Env: PORT (4000), HOST (127.0.0.1), DAPR_HTTP_PORT (3500), DAPR_GRPC_PORT (50001), KAFKA_PORT
# (9092), DATABASE_URL (sqlite:./data/todos.db), plus anything the API reads (see README).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf '[dev] %s\n' "$*" >&2; }

profile=local
for arg in "$@"; do
  case "$arg" in
    --kafka) profile=kafka ;;
    *) log "unknown option $arg (known: --kafka)"; exit 64 ;;
  esac
done
KAFKA_PORT="${KAFKA_PORT:-9092}"

export PORT="${PORT:-4000}"
# Loopback only: a development server with the public development secret must not face the network.
export HOST="${HOST:-127.0.0.1}"
export DAPR_HTTP_PORT="${DAPR_HTTP_PORT:-3500}"
DAPR_GRPC_PORT="${DAPR_GRPC_PORT:-50001}"
DAPR_INTERNAL_GRPC_PORT="${DAPR_INTERNAL_GRPC_PORT:-50002}"
DAPR_METRICS_PORT="${DAPR_METRICS_PORT:-9090}"
ports=("$PORT" "$DAPR_HTTP_PORT" "$DAPR_GRPC_PORT" "$DAPR_INTERNAL_GRPC_PORT" "$DAPR_METRICS_PORT")
[ "$profile" = kafka ] && ports+=("$KAFKA_PORT")
for port in "${ports[@]}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    log "port $port is already in use; set PORT / DAPR_HTTP_PORT / DAPR_GRPC_PORT / DAPR_INTERNAL_GRPC_PORT / DAPR_METRICS_PORT / KAFKA_PORT"
    exit 1
  fi
done

[ -d node_modules ] || { log "installing npm dependencies"; npm install --no-audit --no-fund; }
daprd="$(bash scripts/infra/install-daprd.sh)"
log "building the API"
npm run --silent build

work="$(mktemp -d)"
# Fresh per run: the sidecar and the API authenticate each other.
DAPR_API_TOKEN="$(node -e 'console.log(require("crypto").randomBytes(24).toString("hex"))')"
APP_API_TOKEN="$(node -e 'console.log(require("crypto").randomBytes(24).toString("hex"))')"
export DAPR_API_TOKEN APP_API_TOKEN

pids=()
stop() {
  trap - INT TERM EXIT
  log "stopping"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap stop INT TERM EXIT

# Kafka before daprd: a pubsub.kafka component that cannot reach its broker makes daprd exit.
if [ "$profile" = kafka ]; then
  bash scripts/infra/run-kafka.sh "$KAFKA_PORT" "$work/kafka" >"$work/kafka.log" 2>&1 &
  pids+=($!)
  log "starting Kafka on 127.0.0.1:$KAFKA_PORT (log: $work/kafka.log)"
  bash scripts/infra/wait-port.sh 127.0.0.1 "$KAFKA_PORT" 180 "${pids[-1]}" >/dev/null
  resources="$(bash scripts/dapr/stage-components.sh kafka "$work/resources" "127.0.0.1:$KAFKA_PORT")"
  broker="Kafka on 127.0.0.1:$KAFKA_PORT, topic todo-events"
else
  resources="$(bash scripts/dapr/stage-components.sh local "$work/resources")"
  broker="local profile: in-memory pub/sub"
fi

# The same V8 flags as `npm start` and the Kubernetes Deployment (package.json config.apiNodeFlags).
read -r -a node_flags <<<"$(node -p 'require("./package.json").config.apiNodeFlags')"
LOG_FORMAT="${LOG_FORMAT:-pretty}" node "${node_flags[@]}" dist/src/main.js &
pids+=($!)
bash scripts/infra/wait-port.sh 127.0.0.1 "$PORT" 30 "${pids[-1]}" >/dev/null

DAPRD="$daprd" DAPR_LOG_LEVEL="${DAPR_LOG_LEVEL:-warn}" bash scripts/infra/run-daprd.sh \
  "$resources" "$DAPR_HTTP_PORT" "$DAPR_GRPC_PORT" "$DAPR_INTERNAL_GRPC_PORT" "$DAPR_METRICS_PORT" "$PORT" &
pids+=($!)
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$DAPR_HTTP_PORT/v1.0/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done

token="$(node dist/scripts/dev-token.js --sub dev-user --ttl 8h 2>/dev/null)"
cat >&2 <<TXT

  Todo API with a Dapr sidecar ($broker)
  Sandbox:   http://localhost:$PORT/graphql
  Readiness: http://localhost:$PORT/readyz
  Token for dev-user (8 h):
    $token
  Subscribe in Sandbox to "subscription { todoEvents { eventId action taskId } }" and run
  createTodo in another tab: the event goes API -> outbox -> daprd -> broker -> daprd -> API -> you.

TXT
wait -n "${pids[@]}"
