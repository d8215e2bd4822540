#!/usr/bin/env bash
# How long a defragmenting member blocks its own clients: fills one etcd member (no peers) with <MiB> values of 1 MB,
# deletes every other one and compacts (so half the database is free pages), then runs `etcdctl defrag` while a
# writer puts a key every 200 ms to that member, and prints how long the defragmentation took, the database size
# before and after, and the slowest write during it (the blocking window a client of that member sees).
# The defrag job's per-member timeout (lib/jobs/defrag/defrag-job.ts) is checked against these figures (README:
# Defragmentation).
# Usage: bench/defrag-window.sh <etcd version> [MiB written, default 1024]   (a line built by scripts/build-etcd-lines.sh)
set -euo pipefail
version=${1:-3.6.16}
mib=${2:-1024}
bin="${CDK8S_ETCD_CACHE:-$HOME/.cache/cdk8s-etcd}/etcd/$version"
[ -x "$bin/etcd" ] || { echo "no etcd $version in $bin: run npm run etcd-lines" >&2; exit 1; }
work=$(mktemp -d)
trap 'kill "${pid:-}" "${writer:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
ctl() { "$bin/etcdctl" --endpoints=http://127.0.0.1:23790 "$@"; }
status() { ctl endpoint status -w json | sed -n 's/.*"dbSize":\([0-9]*\).*"dbSizeInUse":\([0-9]*\).*/\1 bytes (\2 in use)/p'; }
head -c 786432 /dev/urandom | base64 -w0 > "$work/value"   # 1 MiB
"$bin/etcd" --name m --data-dir "$work/data" --quota-backend-bytes $((8 * 1024 * 1024 * 1024)) \
  --listen-client-urls http://127.0.0.1:23790 --advertise-client-urls http://127.0.0.1:23790 \
  --listen-peer-urls http://127.0.0.1:23800 --initial-advertise-peer-urls http://127.0.0.1:23800 \
  --initial-cluster m=http://127.0.0.1:23800 --listen-metrics-urls http://127.0.0.1:23810 >> "$work/etcd.log" 2>&1 &
pid=$!
until curl -sf http://127.0.0.1:23810/readyz > /dev/null; do sleep 0.1; done
for i in $(seq 1 "$mib"); do ctl put "/big/$i" < "$work/value" > /dev/null; done
for i in $(seq 1 2 "$mib"); do ctl del "/big/$i" > /dev/null; done
revision=$(ctl endpoint status -w json | sed -n 's/.*"revision":\([0-9]*\).*/\1/p')
ctl compaction --physical "$revision" > /dev/null
ctl put /tick 0 > /dev/null   # bbolt frees the compacted pages at a later write transaction
echo "etcd $version, before: $(status)"

# The writer: one put every 200 ms, each timed; a put that waits on the defragmentation is slow, not lost.
(
  while :; do
    t0=$(date +%s%N)
    ctl --command-timeout=120s put /window "$t0" > /dev/null 2>&1 || echo "failed" >> "$work/writes"
    echo $(( ($(date +%s%N) - t0) / 1000000 )) >> "$work/writes"
    sleep 0.2
  done
) &
writer=$!
sleep 2
t0=$(date +%s%N)
ctl --command-timeout=600s defrag > /dev/null
took=$(( ($(date +%s%N) - t0) / 1000000 ))
sleep 2
kill "$writer"; wait "$writer" 2>/dev/null || true
echo "etcd $version, after:  $(status)"
echo "etcd $version: defrag took $took ms; $(grep -c . "$work/writes") writes, $(grep -c failed "$work/writes" || true) failed, the slowest $(grep -v failed "$work/writes" | sort -n | tail -1) ms"
