#!/usr/bin/env bash
# Kafka's command-line tools by their usual names (with or without .sh),
# served by the matching `weir` subcommand with the same flags.
set -euo pipefail
source "$(dirname "$0")/_weir.sh"
name="$(basename "$0")"
name="${name%.sh}"
case "$name" in
    kafka-topics | kafka-topic) sub=topics ;;
    kafka-configs) sub=configs ;;
    kafka-acls) sub=acls ;;
    kafka-dump-log) sub=dump-log ;;
    kafka-metadata-quorum) sub=metadata-quorum ;;
    kafka-leader-election) sub=leader-election ;;
    kafka-reassign-partitions) sub=reassign-partitions ;;
    kafka-console-producer) sub=produce ;;
    kafka-console-consumer) sub=consume ;;
    kafka-consumer-groups) sub=groups ;;
    kafka-delete-records) sub=delete-records ;;
    kafka-get-offsets) sub=get-offsets ;;
    kafka-log-dirs) sub=log-dirs ;;
    kafka-verifiable-producer) sub=verifiable-producer ;;
    kafka-verifiable-consumer) sub=verifiable-consumer ;;
    kafka-producer-perf-test) sub=producer-perf-test ;;
    kafka-consumer-perf-test) sub=consumer-perf-test ;;
    kafka-broker-api-versions) sub=broker-api-versions ;;
    kafka-storage) sub=storage ;;
    *)
        echo "$name: not a Kafka tool that Weir provides" >&2
        exit 1
        ;;
esac
exec "$WEIR" "$sub" "$@"
