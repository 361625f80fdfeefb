#!/usr/bin/env bash
# Times a newcomer's first page: a fresh clone of REV (default HEAD) served by scripts/serve.sh,
# as on a fresh machine with only rustup. Everything else starts empty: a new HOME, so a new
# CARGO_HOME (no trunk, no wasm-bindgen-cli, no downloaded crates), a new CARGO_TARGET_DIR and
# no shards. Debian packages the scripts install are taken as installed.
#
#   bench/first-page.sh [REV]         # until scripts/serve.sh serves the page
#   bench/first-page.sh [REV] --ci    # .ci/run (scripts/test.sh) instead, as on a fresh CI machine
#
# Prints each line of the scripts' output with the minutes since the start, then the phases.
# Needs the CPU to itself: run nothing heavy alongside it.
set -euo pipefail
cd "$(dirname "$0")/.."

rev=HEAD
ci=false
for arg in "$@"; do
    case "$arg" in
        --ci) ci=true ;;
        *) rev="$arg" ;;
    esac
done
port=8097
rustup_bin=$(command -v rustup) || { echo "first-page: needs rustup"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/first-page.XXXXXX")
echo "first-page: $(git rev-parse --short "$rev") in $work"
git clone --quiet --no-checkout . "$work/clone"
git -C "$work/clone" checkout --quiet "$(git rev-parse "$rev")"

# A home as rustup leaves it: the proxies in ~/.cargo/bin, the toolchains shared (read only).
home="$work/home"
mkdir -p "$home/.cargo/bin"
for proxy in cargo rustc rustdoc rustup; do ln -s "$rustup_bin" "$home/.cargo/bin/$proxy"; done
run_fresh() {
    env -i HOME="$home" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" TERM=dumb \
        PATH="$home/.cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
        "$@"
}

# The machine's CPU ticks so far: busy (ours and anyone's), idle (with iowait), stolen by the
# hypervisor. Their shares over the run say whether the build kept both cores busy.
cpu_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6, $9 }' /proc/stat; }
cpu_report() {
    read -r busy0 idle0 steal0 <<<"$cpu_start"
    read -r busy1 idle1 steal1 < <(cpu_ticks)
    awk -v b=$((busy1 - busy0)) -v i=$((idle1 - idle0)) -v s=$((steal1 - steal0)) -v n="$(nproc)" \
        'BEGIN { t = b + i + s; printf "CPU over the run (%d cores): %.0f%% busy, %.0f%% idle, %.0f%% stolen\n", n, 100 * b / t, 100 * i / t, 100 * s / t }'
}

minutes() { awk -v now="${EPOCHREALTIME/./}" -v start="$start" 'BEGIN { print (now - start) / 6e7 }'; }

# Prefixes each line with the minutes since $start.
stamp() {
    while IFS= read -r line; do
        printf '%6.2f %s\n' "$(minutes)" "$line"
    done
}

start=${EPOCHREALTIME/./}
cpu_start=$(cpu_ticks)
if $ci; then
    (cd "$work/clone" && run_fresh bash .ci/run 2>&1) | stamp | tee "$work/ci.log"
    printf '%6.2f .ci/run passed\n' "$(minutes)"
    cpu_report
    echo "== phases (minutes from the start)"
    grep -E 'Installed package|images from|Finished|^ *[0-9.]+ == |^ *[0-9.]+ # (pass|fail)' "$work/ci.log" || true
    echo "first-page: logs in $work (delete it to free the build)"
    exit 0
fi

log="$work/serve.log"
(cd "$work/clone" && run_fresh bash scripts/serve.sh --port "$port" 2>&1) > >(stamp | tee "$log") &
server=$!
trap 'pkill -f "trunk serve.*--port $port" 2>/dev/null; true' EXIT

# Served: the page names its wasm and the wasm downloads.
until page=$(curl -sf "http://127.0.0.1:$port/" 2>/dev/null) \
    && wasm=$(grep -o 'data-wasm="[^"]*"' <<<"$page" | sed 's/data-wasm="\(.*\)"/\1/') \
    && [ -n "$wasm" ] \
    && curl -sf -o /dev/null "http://127.0.0.1:$port/${wasm#./}"; do
    kill -0 "$server" 2>/dev/null || { echo "first-page: serve.sh stopped before serving"; exit 1; }
    sleep 5
done
printf '%6.2f first page served (%s)\n' "$(minutes)" "$wasm" | tee -a "$log"
cpu_report | tee -a "$log"

echo "== phases (minutes from the start)"
grep -E 'Installed package|images from|Finished|^ *[0-9.]+ == |first page served' "$log" || true
echo "first-page: logs in $work (delete it to free the build)"
