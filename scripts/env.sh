# Shared set-up for the scripts: a build cache outside the clone, and installers that run only
# when something is missing. Sourced, not run.

# Builds persist across clones (burn takes minutes to compile on 2 cores).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/fmnist-ae/target}"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
# trunk and wasm-bindgen-cli build in their own directory (see install_web_tools).
WEB_TOOLS_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/fmnist-ae/web-tools"

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

# trunk and wasm-bindgen-cli, built from source when missing (trunk never downloads tools:
# Trunk.toml sets offline = true); wasm-opt comes from Debian's binaryen. They build in their own
# target directory, so they can build while cargo builds the page (both cores busy), without
# what the page never uses: TLS (they fetch nothing) and trunk's update check.
# trunk 0.22 needs a newer rustc than 1.95.
TRUNK_VERSION=0.21.14
wasm_bindgen_installed() {
    wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $(wasm_bindgen_version)"
}
trunk_installed() {
    trunk --version 2>/dev/null | grep -qx "trunk $TRUNK_VERSION"
}
web_tools_installed() {
    wasm_bindgen_installed && trunk_installed
}

# Both build unoptimised but for the crates that do their heavy work on every build of the page:
# most of their code parses arguments, watches files and serves, and builds in half the time
# unoptimised. On 2 cores alone: trunk 2.6 minutes (6.3 at opt-level 1, 9.2 with its own
# profile), wasm-bindgen-cli 1.5 (2.0 at opt-level 1).
optimise() {
    local package
    for package in "$@"; do printf -- '--config profile.release.package.%s.opt-level=1 ' "$package"; done
}
install_web_tools() (
    export CARGO_TARGET_DIR="$WEB_TOOLS_DIR/target" CARGO_PROFILE_RELEASE_OPT_LEVEL=0
    if ! wasm_bindgen_installed; then
        # Reading, rewriting and writing the wasm: 3.5 s for the page's 28 MB (2.8 s fully at
        # opt-level 1, 11.5 s unoptimised). Its own lock file wants a crate version the
        # registry lacks, so no --locked here.
        # shellcheck disable=SC2046 # one word per flag
        cargo install wasm-bindgen-cli --version "$(wasm_bindgen_version)" --no-default-features --bin wasm-bindgen \
            $(optimise walrus wasmparser wasm-encoder wasm-bindgen-cli-support wasm-bindgen-cli)
    fi
    if ! trunk_installed; then
        # The integrity hashes of the wasm: `trunk build --release` takes 7.2 s (10.5 s with
        # sha2 unoptimised, 7.2 fully at opt-level 1). No LTO (trunk's profile asks for it).
        # shellcheck disable=SC2046
        CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
            cargo install trunk --version "$TRUNK_VERSION" --locked --no-default-features $(optimise sha2)
    fi
)
# Runs install_web_tools in the background, its output in a log; wait_for_web_tools collects it.
start_web_tools() {
    ensure_debian_packages binaryen
    web_tools_installed && return 0
    WEB_TOOLS_LOG="$WEB_TOOLS_DIR/build.log"
    mkdir -p "$WEB_TOOLS_DIR"
    echo "== building trunk and wasm-bindgen-cli alongside (log: $WEB_TOOLS_LOG)"
    (install_web_tools) >"$WEB_TOOLS_LOG" 2>&1 &
    WEB_TOOLS_PID=$!
    # If the script stops first, so does the install (cargo, then the subshell).
    trap '[ -z "${WEB_TOOLS_PID:-}" ] || { pkill -P "$WEB_TOOLS_PID"; kill "$WEB_TOOLS_PID"; } 2>/dev/null || true' EXIT
}

wait_for_web_tools() {
    [ -n "${WEB_TOOLS_PID:-}" ] || return 0
    if ! wait "$WEB_TOOLS_PID"; then
        tail -n 40 "$WEB_TOOLS_LOG"
        echo "building trunk or wasm-bindgen-cli failed (full log: $WEB_TOOLS_LOG)"
        return 1
    fi
    echo "== trunk and wasm-bindgen-cli built"
    WEB_TOOLS_PID=
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

# The page's wasm as trunk builds it: the engine and the t-SNE worker (engine/), then the shell
# (app/). `serve` builds them with the `serve` profile (`trunk serve`); `web` builds the
# published ones, the workers with `web`, the shell with `web-shell` (index.html names the
# profiles; Cargo.toml says how they differ). Built here rather than by trunk, so it runs while
# the web tools build, and the two workers' final links (minutes each with `web`'s
# whole-program optimisation) run side by side, where trunk builds one after the other. One
# package per cargo run, as trunk builds them: two in one run would unify their dependencies'
# features, and trunk would build everything again. trunk then finds them fresh.
build_page() {
    local shell_profile="$1"
    [ "$1" = web ] && shell_profile=web-shell
    cargo build -p engine --target wasm32-unknown-unknown --profile "$1" --bins --locked
    cargo build -p app --target wasm32-unknown-unknown --profile "$shell_profile" --bins --locked
}

# Everything a build of the page with PROFILE needs, in an order that keeps both cores busy:
# trunk and wasm-bindgen-cli build in the background while the shards are written and the
# page builds.
prepare_page() {
    ensure_wasm_target
    start_web_tools
    ensure_data
    build_page "$1"
    wait_for_web_tools
}
