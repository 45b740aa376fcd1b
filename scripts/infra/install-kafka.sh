#!/usr/bin/env bash
# Assembles a Kafka (KRaft-capable) broker from Maven Central and prints its libs dir on stdout.
#
#   scripts/infra/install-kafka.sh            -> .../todo-graphql-dapr/kafka-<version>/libs
#
# The libs dir holds kafka_2.13 and its runtime dependencies (Scala, kafka-clients,
# kafka-raft, kafka-metadata, ...), a log4j 1.x-compatible binding (reload4j, as in the
# Apache distribution), and kafka-tools (TopicCommand, ConsoleConsumer, ...).
# Run the broker with scripts/infra/run-kafka.sh.  Needs java (>= 11) and mvn.
#
# Env:
#   KAFKA_VERSION      (default 3.9.2; Kafka 4 drops the old protocol versions Sarama/kafkajs use)
#   KAFKA_WITH_TOOLS   1 (default) also fetch org.apache.kafka:kafka-tools (admin / console CLI classes)
#   MVN                maven command (default: mvn)
set -euo pipefail

KAFKA_VERSION="${KAFKA_VERSION:-3.9.2}"
SCALA_BINARY="2.13"
SLF4J_VERSION="${SLF4J_VERSION:-1.7.36}"   # Kafka 3.9 is built against slf4j 1.7.x
WITH_TOOLS="${KAFKA_WITH_TOOLS:-1}"
MVN="${MVN:-mvn}"
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/todo-graphql-dapr"
HOME_DIR="$CACHE_ROOT/kafka-$KAFKA_VERSION"
LIBS="$HOME_DIR/libs"
STAMP="$HOME_DIR/.complete"

log() { printf '[install-kafka] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [ -f "$STAMP" ] && ls "$LIBS"/kafka_"$SCALA_BINARY"-"$KAFKA_VERSION".jar >/dev/null 2>&1; then
  log "using cached Kafka $KAFKA_VERSION at $LIBS"
  printf '%s\n' "$LIBS"; exit 0
fi

command -v java >/dev/null 2>&1 || die "java not found (install e.g. Debian's openjdk-17-jre-headless)"
command -v "$MVN" >/dev/null 2>&1 || die "mvn not found (install Debian's maven)"

mkdir -p "$CACHE_ROOT"
WORK="$(mktemp -d "$CACHE_ROOT/.kafka-assemble.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

TOOLS_DEP=""
if [ "$WITH_TOOLS" = 1 ]; then
  TOOLS_DEP="<dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version></dependency>"
fi

cat >"$WORK/pom.xml" <<POM
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 http://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.todo-graphql-dapr</groupId>
  <artifactId>kafka-assembly</artifactId>
  <version>$KAFKA_VERSION</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_$SCALA_BINARY</artifactId><version>$KAFKA_VERSION</version></dependency>
    $TOOLS_DEP
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>$SLF4J_VERSION</version></dependency>
  </dependencies>
</project>
POM

log "resolving Kafka $KAFKA_VERSION from Maven Central (mvn dependency:copy-dependencies)"
start=$(date +%s)
if ! (cd "$WORK" && "$MVN" -B -q dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$WORK/libs" >"$WORK/mvn.log" 2>&1); then
  tail -n 40 "$WORK/mvn.log" >&2
  die "mvn could not assemble Kafka $KAFKA_VERSION (is that version on Maven Central? set KAFKA_VERSION)"
fi
n=$(ls "$WORK/libs" | wc -l)
[ -f "$WORK/libs/kafka_$SCALA_BINARY-$KAFKA_VERSION.jar" ] || die "kafka_$SCALA_BINARY-$KAFKA_VERSION.jar missing after mvn"

# Logging config used by run-kafka.sh (log4j 1.x syntax, read by reload4j).
mkdir -p "$WORK/config"
cat >"$WORK/config/log4j.properties" <<'L4J'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.Target=System.err
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.controller=INFO
L4J

rm -rf "$HOME_DIR"
mkdir -p "$HOME_DIR"
mv "$WORK/libs" "$LIBS"
mv "$WORK/config" "$HOME_DIR/config"
printf '%s\n' "$KAFKA_VERSION" >"$STAMP"
log "assembled $n jars into $LIBS in $(( $(date +%s) - start ))s"
printf '%s\n' "$LIBS"
