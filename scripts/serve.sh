#!/usr/bin/env bash
# Installs what the page needs (wasm32 target, trunk, wasm-bindgen-cli, binaryen, the data) when
# missing, then builds and serves it on http://127.0.0.1:8080 (extra arguments go to trunk).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

ensure_page_prerequisites
exec trunk serve --release "$@"
