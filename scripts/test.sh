#!/usr/bin/env bash
# Runs every test of the project on a fresh Debian machine with a Rust toolchain, installing
# what is missing: native unit and integration tests (the wgpu backend's among them, on Vulkan),
# the release build of the page, and the end-to-end suite in Debian's headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

ensure_wasm_target
# trunk and wasm-bindgen-cli build in the background while the native tests build and run.
start_web_tools

# The wgpu backend is on for every native test, so burn builds once (with it on only for the
# fused step's test, burn's whole native stack built twice: 23 minutes on a fresh 2-core machine).
# The fused WebGPU training step runs against burn's autodiff on Vulkan: lavapipe without a GPU.
ensure_debian_packages mesa-vulkan-drivers
echo "== native tests, with the wgpu backend"
cargo test --workspace --locked --features model/wgpu

echo "== the data tool and the page's shell build without burn"
# The data tool: a newcomer's shards take a minute, not six. The shell: the first view waits for
# its download, so the engine (burn) lives in its own worker (see the README's layout).
for package in fmnist-data protocol app; do
    deps=$(cargo tree -p "$package" --locked -e normal,build --prefix none --target wasm32-unknown-unknown)
    if grep -q '^burn' <<<"$deps"; then
        echo "$package depends on burn: keep it free of it (see the README's layout)"
        exit 1
    fi
done

# The page's build compiles the model crate for wasm32 (with the wgpu backend, as the page uses it).
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
