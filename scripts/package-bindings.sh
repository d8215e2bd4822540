#!/usr/bin/env bash
# Packages the compiled library (run `jsii` first) for Python, Java and Go with jsii-pacmak, from the jsii
# configuration in package.json, into dist-pkg/ (each language's directory rebuilt from scratch on every run).
# Usage: package-bindings.sh [python|java|go|dotnet ...]   (no argument: all; `npm run package -- python`)
#   python/cdk8s_etcd-<version>-py3-none-any.whl
#   java/io/github/cdk8s-etcd/cdk8s-etcd/<version>/   a Maven repository
#   go/cdk8setcd/                                      the Go module github.com/cdk8s-etcd/cdk8s-etcd-go/cdk8setcd
#   dotnet/                                            C# sources only: no .NET SDK or NuGet here (see README)
# Two published dependencies are not served by the registries our machines reach: Maven Central has org.cdk8s:cdk8s
# only up to 2.70.47 and no org.cdk8s:cdk8s-plus-28, and the Go module proxy answers 403 for cdk8s-core-go. Those
# are built from their npm packages in node_modules with the same jsii-pacmak (as their maintainers publish them),
# cached outside the repository by version, and copied in beside ours:
#   ${CDK8S_ETCD_CACHE:-$HOME/.cache/cdk8s-etcd}/bindings/<target>-<packages>-pacmak-<version>/
# Maven's downloads are cached there too (m2/), so a warm run downloads nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

# Which languages: the arguments (`npm run package -- python`), or all of them.
all=(python java go dotnet)
if [ "$#" -gt 0 ]; then languages=("$@"); else languages=("${all[@]}"); fi
declare -A needs=([python]="python3" [java]="mvn java" [go]="go" [dotnet]="")
for language in "${languages[@]}"; do
  [ -n "${needs[$language]+x}" ] || { echo "package-bindings: unknown language '$language'; choose from: ${all[*]}" >&2; exit 2; }
  for tool in ${needs[$language]}; do
    command -v "$tool" >/dev/null || { echo "package-bindings: $language needs $tool, which is not installed (see README, Other languages)" >&2; exit 1; }
  done
done
wants() { [[ " ${languages[*]} " == *" $1 "* ]]; }
[ -f .jsii ] || { echo "package-bindings: no .jsii: run jsii first (npm run package does)" >&2; exit 1; }

# Node 20, which our machines have, is past its end of life, and jsii says so in a banner on every start. It
# works; the banner drowns the log.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="$(node -p 'process.versions.node.split(".")[0]')"
cache="${CDK8S_ETCD_CACHE:-$HOME/.cache/cdk8s-etcd}"
m2="$cache/m2"
version_of() { node -p "require('./node_modules/$1/package.json').version"; }
pacmak_version=$(version_of jsii-pacmak)
pacmak() { npx --no-install jsii-pacmak --no-npmignore --maven-local-repository="$m2" "$@"; }

# dependency_from_npm TARGET PACKAGE...: jsii-pacmak output for npm PACKAGEs, built once per version into the cache.
dependency_from_npm() {
  local target=$1; shift
  local key="$target" pkg
  for pkg in "$@"; do key+="-$pkg-$(version_of "$pkg")"; done
  local out="$cache/bindings/$key-pacmak-$pacmak_version"
  if [ ! -d "$out/$target" ]; then
    echo "$target: building $* from node_modules into $out"
    local start=$SECONDS
    rm -rf "$out.tmp.$$"
    pacmak --targets "$target" --outdir "$out.tmp.$$" "${@/#/node_modules/}"
    rm -rf "$out"
    mv "$out.tmp.$$" "$out"
    echo "$target: built $* in $((SECONDS - start)) s"
  fi
  mkdir -p "dist-pkg/$target"
  cp -a "$out/$target/." "dist-pkg/$target/"
}

start=$SECONDS
for language in "${languages[@]}"; do rm -rf "dist-pkg/$language"; done
wants java && dependency_from_npm java cdk8s cdk8s-plus-28
wants go && dependency_from_npm go cdk8s
# Ours, next to those: jsii-pacmak resolves dependencies it finds in the output directory before the registries.
targets=()
for language in python java go; do wants "$language" && targets+=("$language"); done
[ "${#targets[@]}" -eq 0 ] || pacmak --targets "${targets[@]}" --outdir dist-pkg -v
wants dotnet && pacmak --targets dotnet --code-only --outdir dist-pkg
echo "package-bindings: ${languages[*]} in dist-pkg/ in $((SECONDS - start)) s"
