#!/usr/bin/env bash
# Runs every test of the project on a fresh Debian machine with a Rust toolchain:
# the native unit and integration tests, then the wasm32 build of the model crate.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

ensure_wasm_target

echo "== native tests"
cargo test --workspace --locked

echo "== model crate for wasm32"
cargo build -p model --target wasm32-unknown-unknown --locked
