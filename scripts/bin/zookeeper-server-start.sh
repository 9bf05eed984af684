#!/usr/bin/env bash
# Weir's broker keeps its own metadata: there is no ZooKeeper to start.
echo "No ZooKeeper is needed: Weir's broker keeps its own metadata. Start it with kafka-server-start.sh." >&2
exit 0
