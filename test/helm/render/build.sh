#!/bin/sh
# Builds the offline `helm template` stand-in once per version of main.go and prints the binary's path.
# Needs Debian's golang-go, golang-github-masterminds-sprig-dev and golang-gopkg-yaml.v2-dev (.ci/run installs them).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
hash=$(sha256sum "$here/main.go" | cut -c1-16)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/agent-bom/helm-render
bin="$cache/render-$hash"
if [ ! -x "$bin" ]; then
  if ! command -v go >/dev/null 2>&1; then
    echo "go is not installed: apt-get install golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v2-dev" >&2
    exit 1
  fi
  mkdir -p "$cache"
  tmp="$bin.$$"
  GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= GOCACHE="$cache/gocache" go build -o "$tmp" "$here/main.go"
  mv -f "$tmp" "$bin"
fi
echo "$bin"
