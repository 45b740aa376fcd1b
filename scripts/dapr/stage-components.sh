#!/usr/bin/env bash
# Copies a resources profile for daprd into <dest-dir>:
#   kafka  components/*.yaml (pubsub.kafka on BROKERS, default 127.0.0.1:9092)
#   local  components/local/kafka-pubsub.yaml (pubsub.in-memory) + the shared subscription and resiliency
# usage: stage-components.sh <kafka|local> <dest-dir> [brokers]
set -euo pipefail
profile=${1:?usage: stage-components.sh <kafka|local> <dest-dir> [brokers]}
dest=${2:?usage: stage-components.sh <kafka|local> <dest-dir> [brokers]}
brokers=${3:-127.0.0.1:9092}
components="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../components" && pwd -P)"

mkdir -p "$dest"
cp "$components/todo-events-subscription.yaml" "$components/resiliency.yaml" "$dest/"
case "$profile" in
  kafka) sed "s#value: \"127.0.0.1:9092\"#value: \"$brokers\"#" "$components/kafka-pubsub.yaml" >"$dest/kafka-pubsub.yaml" ;;
  local) cp "$components/local/kafka-pubsub.yaml" "$dest/kafka-pubsub.yaml" ;;
  *) echo "stage-components: unknown profile '$profile' (kafka|local)" >&2; exit 64 ;;
esac
echo "$dest"
