#!/usr/bin/env bash
# Runs every test of the project on a fresh Debian machine with a Rust toolchain, installing
# what is missing: native unit and integration tests, the wasm32 build of the model crate,
# the release build of the page, and the end-to-end suite in Debian's headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

ensure_wasm_target
# trunk and wasm-bindgen-cli build in the background while the native tests build and run.
start_web_tools

echo "== native tests"
cargo test --workspace --locked

echo "== the data tool builds without burn (a newcomer's shards take a minute, not six)"
data_deps=$(cargo tree -p fmnist-data --locked -e normal,build --prefix none)
if grep -q '^burn' <<<"$data_deps"; then
    echo "fmnist-data depends on burn: keep the data crate free of it (see data/Cargo.toml)"
    exit 1
fi

echo "== the fused WebGPU training step against burn's autodiff (wgpu on Vulkan: lavapipe without a GPU)"
ensure_debian_packages mesa-vulkan-drivers
cargo test -p model --features wgpu --locked --test training -- fused::

echo "== model crate for wasm32"
cargo build -p model --target wasm32-unknown-unknown --locked

echo "== the page (release build)"
grep -q "wasm_bindgen = \"$(wasm_bindgen_version)\"" Trunk.toml \
    || { echo "Trunk.toml's wasm_bindgen differs from Cargo.lock's $(wasm_bindgen_version)"; exit 1; }
ensure_data
build_page web
wait_for_web_tools
trunk build --release --public-url ./

echo "== end-to-end tests in headless Chromium"
command -v node >/dev/null || ensure_debian_packages nodejs npm
# A CJK font, so the Chinese page draws its characters (screenshots, chart labels measured right).
ensure_debian_packages chromium fonts-wqy-microhei
(cd e2e && npm ci --no-audit --no-fund && npm test)
