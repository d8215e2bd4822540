#!/usr/bin/env bash
# Builds the tools the backup scenarios run beside etcd, from the Go module proxy, pinned here:
#   rclone     stands in for the rclone/rclone image the backup job uploads with (same release as its default tag);
#   versitygw  an independent S3 server (not rclone) with SigV4 authentication, started on loopback by the tests;
#   promtool   checks and unit-tests the alert rules addMonitoring renders;
#   prometheus scrapes real members with the PodMonitor's configuration and evaluates those rules.
# Binaries are cached outside the repository, keyed by version, so a warm run builds nothing:
#   ${CDK8S_ETCD_CACHE:-$HOME/.cache/cdk8s-etcd}/tools/<name>-<version>/<name>
# The harness (test/e2e/harness/tools.ts) finds them there by the same rule.
# Without Go it prints one SKIP line per tool and exits 0, unless CI=true, where a missing tool fails.
set -euo pipefail

cache="${CDK8S_ETCD_CACHE:-$HOME/.cache/cdk8s-etcd}/tools"
tools=(
  "rclone v1.76.0 github.com/rclone/rclone"
  "versitygw v1.8.0 github.com/versity/versitygw/cmd/versitygw"
  "promtool v0.316.0 github.com/prometheus/prometheus/cmd/promtool"
  "prometheus v0.316.0 github.com/prometheus/prometheus/cmd/prometheus"
)
status=0
for entry in "${tools[@]}"; do
  read -r name version package <<<"$entry"
  out="$cache/$name-${version#v}"
  if [ -x "$out/$name" ]; then
    echo "$name $version: cached in $out"
    continue
  fi
  if ! command -v go >/dev/null; then
    echo "SKIP $name $version: Go is not installed"
    status=1
    continue
  fi
  echo "$name $version: building into $out"
  start=$SECONDS
  rm -rf "$out.tmp.$$"
  # None of these modules has replace directives, so `go install module@version` builds exactly that release.
  GOBIN="$out.tmp.$$" CGO_ENABLED=0 go install -trimpath "$package@$version"
  rm -rf "$out"
  mv "$out.tmp.$$" "$out"
  echo "$name $version: built in $((SECONDS - start)) s"
done

# kube-state-metrics' source (not built): the monitoring tests check the metric names the backup alerts read
# against the CronJob metrics it defines. 2.16.0 is the newest release the module proxy serves here.
if command -v go >/dev/null; then
  if ! go mod download k8s.io/kube-state-metrics/v2@v2.16.0; then
    echo "kube-state-metrics v2.16.0: the source could not be downloaded"
    status=1
  fi
fi

if [ "$status" -ne 0 ] && [ "${CI:-}" = "true" ]; then
  echo "build-e2e-tools: CI=true and a tool could not be built" >&2
  exit 1
fi
exit 0
