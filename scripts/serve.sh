#!/usr/bin/env bash
# Installs what the page needs (wasm32 target, trunk, wasm-bindgen-cli, binaryen, the data) when
# missing, then builds and serves it on http://127.0.0.1:8080. Plain, it serves the `serve`
# profile, quick to build for local work; with --release, the published `web` build (smaller,
# slower to build). Other arguments go to trunk.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

profile=serve
case "${TRUNK_BUILD_RELEASE:-}" in true | 1) profile=web ;; esac
for arg in "$@"; do
    case "$arg" in --release | --release=true | --release=1) profile=web ;; esac
done
prepare_page "$profile"
exec trunk serve "$@"
