#!/usr/bin/env bash
# Installs what the page needs (wasm32 target, trunk, wasm-bindgen-cli, binaryen, the data) when
# missing, then builds and serves it on http://127.0.0.1:8080. Plain, it serves the `serve`
# profile, quick to build for local work; with --release, the published `web` build (smaller,
# slower to build). Other arguments go to trunk.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

profile=serve
for arg in "$@"; do
    [ "$arg" != --release ] || profile=web
done
prepare_page "$profile"
exec trunk serve "$@"
