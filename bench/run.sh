#!/usr/bin/env bash
# Every benchmark in one run on this machine: the native CLI against PyTorch (1 thread), burn's
# autodiff step against our fused WebGPU step on the native wgpu backend (counted launches), our
# t-SNE against scikit-learn's, then the browser (bench/run.mjs): our page against
# TensorFlow.js 4.22, a 10-epoch session (time to interactive, epoch time, peak JS heap, t-SNE
# time), the release wasm's size, and the `serve` build (trunk serve) against the `web` one.
# Prints the README's table; writes bench/results.json.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

prepare_page web
mkdir -p bench/out

echo "== release build of the page (the web profile)"
trunk build --release --public-url ./
echo "== the page as trunk serve builds it (the serve profile), for the profile rows"
build_page serve
trunk build --dist dist-serve --public-url ./

echo "== the CPU step's phases in the browser: bench/step-profile for wasm, as the engine builds"
cargo build -p step-profile --target wasm32-unknown-unknown --profile web --locked
wasm-bindgen --target web --no-typescript --out-dir bench/out/step-profile \
    "$CARGO_TARGET_DIR/wasm32-unknown-unknown/web/step_profile.wasm"

echo "== native: our CLI (1 thread)"
cargo run -p model --release --locked --bin fmnist-ae -- bench --json bench/out/native.json

echo "== native: burn's wgpu backend (Vulkan; Debian's lavapipe where there is no GPU), autodiff vs fused step"
ensure_debian_packages mesa-vulkan-drivers
cargo run -p model --release --locked --features wgpu --bin fmnist-ae -- bench --backend wgpu --json bench/out/native-wgpu.json

# The Python peers live in a virtual environment beside the build cache: PyTorch's wheel is
# large, so it is installed once.
venv="${BENCH_VENV:-$HOME/.cache/fmnist-ae/bench-venv}"
if ! "$venv/bin/python" -c "import torch, sklearn" 2>/dev/null; then
    ensure_debian_packages python3-venv
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet torch numpy scikit-learn
fi
echo "== native: PyTorch, 1 thread"
"$venv/bin/python" bench/torch_peer.py --json | tee bench/out/pytorch.json

echo "== t-SNE: ours against scikit-learn on the same codes"
cargo run -p model --release --locked --bin fmnist-ae -- embed --experiment tied --out bench/out/codes.json
"$venv/bin/python" bench/tsne_vs_sklearn.py bench/out/codes.json --json bench/out/tsne.json

echo "== in the browser"
command -v node >/dev/null || ensure_debian_packages nodejs npm
ensure_debian_packages chromium
# The browser is driven through the e2e suite's harness (its playwright-core).
(cd e2e && npm ci --no-audit --no-fund)
cd bench
npm ci --no-audit --no-fund
node run.mjs "$@"
