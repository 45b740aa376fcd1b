#!/usr/bin/env bash
# End-to-end smoke check of the real parts, outside the app: Kafka (KRaft) + daprd +
# pubsub.kafka.  Publishes one event through daprd's HTTP API, reads the record back with
# kafkajs (installed into a scratch dir under the cache, never into the repo) and prints it
# as JSON on stdout.  Every process it starts is stopped before it exits.
#
#   scripts/infra/smoke-dapr-kafka.sh        (exit 0 when the record has key, header user_id
#                                             and a CloudEvent whose id is the one published)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/todo-graphql-dapr"
log() { printf '[smoke] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
ms() { echo $(( $(date +%s%N) / 1000000 )); }
freeport() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

DAPRD="$("$HERE/install-daprd.sh")"
"$HERE/install-kafka.sh" >/dev/null
CHECK="$CACHE_ROOT/kafka-check"
if [ ! -f "$CHECK/node_modules/kafkajs/package.json" ]; then
  log "installing kafkajs@2.2.4 into $CHECK"
  mkdir -p "$CHECK"
  (cd "$CHECK" && { [ -f package.json ] || echo '{"private":true}' >package.json; } && npm i --silent --no-audit --no-fund kafkajs@2.2.4 >&2)
fi

W="$(mktemp -d "${TMPDIR:-/tmp}/smoke-dapr-kafka.XXXXXX")"
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$W"
}
trap cleanup EXIT

KP="$(freeport)"
t0=$(ms)
"$HERE/run-kafka.sh" "$KP" "$W/kafka" >"$W/kafka.log" 2>&1 & KPID=$!; PIDS+=("$KPID")
"$HERE/wait-port.sh" 127.0.0.1 "$KP" 120 "$KPID" >/dev/null || { tail -n 30 "$W/kafka.log" >&2; die "Kafka did not start"; }
log "Kafka ready on 127.0.0.1:$KP in $(( $(ms) - t0 ))ms"

mkdir -p "$W/resources"
cat >"$W/resources/pubsub.yaml" <<YAML
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: kafka-pubsub
spec:
  type: pubsub.kafka
  version: v1
  metadata:
    - name: brokers
      value: "127.0.0.1:$KP"
    - name: authType
      value: "none"
    - name: consumerGroup
      value: "todo-api-smoke"
    - name: clientID
      value: "todo-api"
    - name: version
      value: "3.9.0"
YAML

HP="$(freeport)"; GP="$(freeport)"; IP="$(freeport)"; MP="$(freeport)"
t0=$(ms)
DAPRD="$DAPRD" "$HERE/run-daprd.sh" "$W/resources" "$HP" "$GP" "$IP" "$MP" >"$W/daprd.log" 2>&1 & DPID=$!; PIDS+=("$DPID")
for _ in $(seq 1 300); do
  curl -fsS -o /dev/null "http://127.0.0.1:$HP/v1.0/healthz/outbound" 2>/dev/null && break
  kill -0 "$DPID" 2>/dev/null || { tail -n 30 "$W/daprd.log" >&2; die "daprd exited"; }
  sleep 0.1
done
curl -fsS -o /dev/null "http://127.0.0.1:$HP/v1.0/healthz/outbound" || die "daprd not ready after 30s"
log "daprd ready on 127.0.0.1:$HP in $(( $(ms) - t0 ))ms"

ID="$(cat /proc/sys/kernel/random/uuid)"
code="$(curl -sS -o "$W/publish.out" -w '%{http_code}' -X POST \
  "http://127.0.0.1:$HP/v1.0/publish/kafka-pubsub/todo-events?metadata.user_id=user-456&metadata.partitionKey=user-456&metadata.cloudevent.id=$ID" \
  -H 'content-type: application/json' \
  -d '{"action":"task_created","task_id":1,"user_id":"user-456","details":{}}')"
[ "$code" = 204 ] || { cat "$W/publish.out" >&2; die "publish answered HTTP $code"; }
log "published cloudevent.id=$ID"

cat >"$CHECK/read-one.js" <<'JS'
const { Kafka, logLevel } = require('kafkajs');
const [broker, topic, id] = process.argv.slice(2);
const kafka = new Kafka({ clientId: 'smoke', brokers: [broker], logLevel: logLevel.NOTHING });
const consumer = kafka.consumer({ groupId: 'smoke-' + process.pid });
const timer = setTimeout(() => { console.error('no record within 30s'); process.exit(1); }, 30000);
(async () => {
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  // Never await consumer.disconnect() inside eachMessage: it waits for eachMessage to end.
  const rec = await new Promise((resolve) => {
    consumer.run({ eachMessage: async ({ topic, partition, message }) => {
      const headers = {};
      for (const [k, v] of Object.entries(message.headers || {})) headers[k] = Buffer.isBuffer(v) ? v.toString() : v;
      const value = JSON.parse(message.value.toString());
      resolve({ topic, partition, offset: message.offset, key: message.key && message.key.toString(), headers, value });
    }}).catch((e) => { console.error(e); process.exit(2); });
  });
  clearTimeout(timer);
  console.log(JSON.stringify(rec, null, 2));
  const v = rec.value;
  const ok = rec.key === 'user-456' && rec.headers.user_id === 'user-456' && v.id === id && v.data && v.data.task_id === 1;
  await Promise.race([consumer.disconnect(), new Promise((r) => setTimeout(r, 5000))]);
  process.exit(ok ? 0 : 3);
})().catch((e) => { console.error(e); process.exit(2); });
JS
node "$CHECK/read-one.js" "127.0.0.1:$KP" todo-events "$ID" || die "record check failed (exit $?)"
log "OK: record key, user_id header and CloudEvent id match"
