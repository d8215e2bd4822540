#!/usr/bin/env bash
# Builds etcd, etcdctl and etcdutl for every line under test/e2e/etcd-lines/ from etcd's Go modules.
#
# Each line is a wrapper module whose go.mod pins one etcd release (its `go.etcd.io/etcd/server/v3` requirement
# is the only place the version is written) and lists the three commands as tools. Binaries are cached outside the
# repository, keyed by version, so a warm run builds nothing:
#   ${CDK8S_ETCD_CACHE:-$HOME/.cache/cdk8s-etcd}/etcd/<version>/{etcd,etcdctl,etcdutl}
# The real-etcd harness (test/e2e/harness/etcd-lines.ts) finds them there by the same rule.
#
# Without Go it prints one SKIP line per missing line and exits 0, unless CI=true, where a missing line fails.
set -euo pipefail
cd "$(dirname "$0")/.."

cache="${CDK8S_ETCD_CACHE:-$HOME/.cache/cdk8s-etcd}/etcd"
status=0
for mod in test/e2e/etcd-lines/*/go.mod; do
  dir=$(dirname "$mod")
  version=$(sed -n 's#^[[:space:]]*go\.etcd\.io/etcd/server/v3 v\([0-9.]*\).*#\1#p' "$mod" | head -n 1)
  if [ -z "$version" ]; then
    echo "build-etcd-lines: $mod does not require go.etcd.io/etcd/server/v3 at a release version" >&2
    exit 1
  fi
  out="$cache/$version"
  if [ -x "$out/etcd" ] && [ -x "$out/etcdctl" ] && [ -x "$out/etcdutl" ]; then
    echo "etcd $version: cached in $out"
    continue
  fi
  if ! command -v go >/dev/null; then
    echo "SKIP etcd $version: Go is not installed, so the $(basename "$dir") line cannot be built"
    status=1
    continue
  fi
  echo "etcd $version: building into $out"
  start=$SECONDS
  tmp="$out.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  # -trimpath and no VCS stamping: the same inputs give the same binaries on every machine.
  (cd "$dir" && CGO_ENABLED=0 go build -trimpath -buildvcs=false -o "$tmp/etcd" go.etcd.io/etcd/server/v3 \
    && CGO_ENABLED=0 go build -trimpath -buildvcs=false -o "$tmp/etcdctl" go.etcd.io/etcd/etcdctl/v3 \
    && CGO_ENABLED=0 go build -trimpath -buildvcs=false -o "$tmp/etcdutl" go.etcd.io/etcd/etcdutl/v3)
  built=$("$tmp/etcd" --version | sed -n 's/^etcd Version: //p')
  if [ "$built" != "$version" ]; then
    echo "build-etcd-lines: $dir pins $version but the binary says '$built'" >&2
    exit 1
  fi
  rm -rf "$out"
  mv "$tmp" "$out"
  echo "etcd $version: built in $((SECONDS - start)) s"
done

if [ "$status" -ne 0 ] && [ "${CI:-}" = "true" ]; then
  echo "build-etcd-lines: CI=true and an etcd line could not be built" >&2
  exit 1
fi
exit 0
