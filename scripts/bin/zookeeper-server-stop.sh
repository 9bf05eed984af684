#!/usr/bin/env bash
# Weir's broker keeps its own metadata: no ZooKeeper runs, so none is stopped.
echo "No zookeeper server to stop: Weir runs without ZooKeeper."
exit 0
