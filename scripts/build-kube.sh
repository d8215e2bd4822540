#!/usr/bin/env bash
# Builds the Kubernetes control plane the e2e tests start (kube-apiserver, kube-controller-manager, kube-scheduler,
# kubectl) and kwok, from the wrapper module test/e2e/kube/go.mod, whose k8s.io/kubernetes requirement is the one
# place the release is written; and fetches the CRDs the acceptance tests install (cert-manager, prometheus-operator)
# and kwok's stage files from their Go modules. Everything is cached outside the repository, keyed by version:
#   ${CDK8S_ETCD_CACHE:-$HOME/.cache/cdk8s-etcd}/kube/<version>/{kube-apiserver,...,kwok,kwok-stages/,crds/}
# The harness (test/e2e/kube/control-plane.ts) finds them there by the same rule.
#
# Cold: about 10 min and 2.8 GB of memory on 2 cores (the Go build cache grows by 4-5 GB); warm: nothing to do.
# Without Go it prints one SKIP line and exits 0, unless CI=true, where it fails.
set -euo pipefail
cd "$(dirname "$0")/.."

mod=test/e2e/kube
version=$(sed -n 's#^[[:space:]]*k8s\.io/kubernetes v\([0-9.]*\)\( // indirect\)\{0,1\}$#\1#p' "$mod/go.mod" | head -n 1)
[ -n "$version" ] || { echo "build-kube: $mod/go.mod does not require k8s.io/kubernetes at a release version" >&2; exit 1; }
# The CRDs' modules and versions: the ones GUIDE.md section 7 measured.
cert_manager=github.com/cert-manager/cert-manager@v1.21.2
prometheus_operator=github.com/prometheus-operator/prometheus-operator@v0.85.0

out="${CDK8S_ETCD_CACHE:-$HOME/.cache/cdk8s-etcd}/kube/$version"
tools=(kube-apiserver kube-controller-manager kube-scheduler kubectl kwok)
cached=true
for t in "${tools[@]}"; do [ -x "$out/$t" ] || cached=false; done
[ -d "$out/crds" ] && [ -d "$out/kwok-stages" ] || cached=false
if [ "$cached" = true ]; then
  echo "kubernetes $version: cached in $out"
  exit 0
fi
if ! command -v go >/dev/null; then
  echo "SKIP kubernetes $version: Go is not installed, so the control-plane tests cannot run"
  [ "${CI:-}" = "true" ] && { echo "build-kube: CI=true and the control plane could not be built" >&2; exit 1; }
  exit 0
fi

echo "kubernetes $version: building into $out"
start=$SECONDS
tmp="$out.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
minor=$(echo "$version" | cut -d. -f2)
# Without these the servers report v0.0.0, and kubectl's version skew checks misfire.
ldflags="-s -w"
for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  ldflags="$ldflags -X $pkg.gitVersion=v$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done
(
  cd "$mod"
  for cmd in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    CGO_ENABLED=0 go build -trimpath -buildvcs=false -tags=selinux,notest,grpcnotrace -ldflags "$ldflags" \
      -o "$tmp/$cmd" "k8s.io/kubernetes/cmd/$cmd"
  done
  CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags "-s -w" -o "$tmp/kwok" sigs.k8s.io/kwok/cmd/kwok
  # kwok exits ("no stages found") without stage files: its module ships the "fast" ones (nodes Ready with a
  # heartbeat; pods Ready at once, Job pods complete, deleted pods go).
  kwok_dir=$(go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)/kustomize/stage
  mkdir -p "$tmp/kwok-stages"
  for stage in node/fast/node-initialize node/heartbeat/node-heartbeat pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
    cp "$kwok_dir/$stage.yaml" "$tmp/kwok-stages/"
  done
)
for t in kube-apiserver kube-controller-manager kube-scheduler; do
  reported=$("$tmp/$t" --version | awk '{print $2}')
  [ "$reported" = "v$version" ] || { echo "build-kube: $t reports '$reported', not v$version" >&2; exit 1; }
done

# CRDs from the modules' zips, as released: cert-manager's deploy/crds and prometheus-operator's example CRDs.
crd_dir() { (cd "$mod" && GOFLAGS=-mod=mod go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'); }
mkdir -p "$tmp/crds/cert-manager" "$tmp/crds/prometheus-operator"
cp "$(crd_dir "$cert_manager")"/deploy/crds/*.yaml "$tmp/crds/cert-manager/"
cp "$(crd_dir "$prometheus_operator")"/example/prometheus-operator-crd/*.yaml "$tmp/crds/prometheus-operator/"
chmod -R u+w "$tmp/crds"

rm -rf "$out"
mv "$tmp" "$out"
echo "kubernetes $version: built in $((SECONDS - start)) s ($(du -sh "$out" | cut -f1))"
