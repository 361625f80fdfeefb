# Shared set-up for the scripts: a build cache outside the clone, and installers that run only
# when something is missing. Sourced, not run.

# Builds persist across clones (burn takes minutes to compile on 2 cores).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/fmnist-ae/target}"
export PATH="$HOME/.cargo/bin:$PATH"

ensure_wasm_target() {
    rustup target list --installed | grep -qx wasm32-unknown-unknown \
        || rustup target add wasm32-unknown-unknown
}

# Installs Debian packages that are missing (as root, or through sudo).
ensure_debian_packages() {
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
}

# The wasm-bindgen version Cargo.lock pins; the CLI must match it exactly.
wasm_bindgen_version() {
    grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"$/\1/p'
}

# trunk and wasm-bindgen-cli, built from crates.io when missing (trunk never downloads tools:
# Trunk.toml sets offline = true). wasm-opt comes from Debian's binaryen.
ensure_web_tools() {
    ensure_debian_packages binaryen
    local version
    version=$(wasm_bindgen_version)
    if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $version"; then
        # Its own lock file wants a crate version the registry lacks, so no --locked here.
        cargo install wasm-bindgen-cli --version "$version"
    fi
    if ! trunk --version 2>/dev/null | grep -qx "trunk 0.21.14"; then
        # trunk 0.22 needs a newer rustc than 1.95.
        cargo install trunk --version 0.21.14 --locked
    fi
}

# The Fashion-MNIST shards the page fetches, written once from Debian's dataset package
# (or $FASHION_MNIST_DIR, or the upstream download).
DATA_DIR=public/data/fashion-mnist
ensure_data() {
    [ -f "$DATA_DIR/manifest.json" ] && return 0
    [ -n "${FASHION_MNIST_DIR:-}" ] || ensure_debian_packages dataset-fashion-mnist
    # Its own small crate: no burn to build before the page.
    cargo run -p fmnist-data --release --locked -- --out "$DATA_DIR"
}

# Everything a release build of the page needs: the wasm32 target, trunk and wasm-bindgen-cli,
# and the shards.
ensure_page_prerequisites() {
    ensure_wasm_target
    ensure_web_tools
    ensure_data
}
