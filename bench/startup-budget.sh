#!/usr/bin/env bash
# How long a member with a large database takes to start serving: fills one etcd member (no peers) with about
# 1.1 GiB of 1 MB values, then restarts it three times and times each start until /readyz answers. The startup
# probe's budget (lib/member/probes.ts) is derived from figures measured with this script (README: Performance).
# Usage: bench/startup-budget.sh <etcd version>   (a line built by scripts/build-etcd-lines.sh; needs ~4 GB of disk)
set -euo pipefail
version=${1:-3.6.16}
bin="${CDK8S_ETCD_CACHE:-$HOME/.cache/cdk8s-etcd}/etcd/$version"
[ -x "$bin/etcd" ] || { echo "no etcd $version in $bin: run npm run etcd-lines" >&2; exit 1; }
work=$(mktemp -d)
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
head -c 750000 /dev/urandom | base64 -w0 > "$work/value"   # 1 000 000 bytes
start() {
  "$bin/etcd" --name m --data-dir "$work/data" --quota-backend-bytes $((4 * 1024 * 1024 * 1024)) \
    --listen-client-urls http://127.0.0.1:23790 --advertise-client-urls http://127.0.0.1:23790 \
    --listen-peer-urls http://127.0.0.1:23800 --initial-advertise-peer-urls http://127.0.0.1:23800 \
    --initial-cluster m=http://127.0.0.1:23800 --listen-metrics-urls http://127.0.0.1:23810 >> "$work/etcd.log" 2>&1 &
  pid=$!
  until curl -sf http://127.0.0.1:23810/readyz > /dev/null; do sleep 0.1; done
}
stop() { kill "$pid"; wait "$pid" || true; }
start
for i in $(seq 1 1150); do "$bin/etcdctl" --endpoints=http://127.0.0.1:23790 put "/big/$i" < "$work/value" > /dev/null; done
"$bin/etcdctl" --endpoints=http://127.0.0.1:23790 endpoint status -w json | sed -n 's/.*"dbSize":\([0-9]*\).*"dbSizeInUse":\([0-9]*\).*/database: \1 bytes (\2 in use)/p'
stop
echo "write-ahead log: $(du -sb "$work/data/member/wal" | cut -f1) bytes"
for run in 1 2 3; do
  sync
  t0=$(date +%s%N)
  start
  echo "etcd $version, start $run: serving after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
  stop
done
