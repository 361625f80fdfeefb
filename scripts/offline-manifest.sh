#!/bin/sh
# Writes a build's service worker: public/sw.js after a line that lists every file of the build
# with its revision (the start of its SHA-256), and stamps index.html with the build's id, so
# that any change to any file makes a new index.html and a new sw.js (public/sw.js tells why).
# Trunk runs it after each build on its staging folder (Trunk.toml's post_build hook); the e2e
# suite runs it on a changed copy of a build, to deploy "a new build". POSIX sh and coreutils.
#
#   scripts/offline-manifest.sh [build folder]   (default: trunk's $TRUNK_STAGING_DIR)
#
# `trunk serve` builds (TRUNK_PROFILE=debug) get a worker that removes itself and its copy: a
# page being worked on must never come from a copy.
set -eu
dir=${1:-${TRUNK_STAGING_DIR:?usage: scripts/offline-manifest.sh BUILD_FOLDER}}
template="$(cd "$(dirname "$0")/.." && pwd)/public/sw.js"
enabled=true
[ "${TRUNK_PROFILE:-release}" = debug ] && enabled=false
cd "$dir"
[ -f index.html ] || { echo "offline-manifest: no index.html in $dir" >&2; exit 1; }
grep -q '<meta name="build"' index.html || { echo "offline-manifest: index.html has no <meta name=\"build\">" >&2; exit 1; }

# "path revision", one line per file, in a fixed order.
revision() { sha256sum "$1" | cut -c1-16; }
files=$(find . -type f ! -name sw.js ! -name index.html ! -name '.*' | sed 's|^\./||' | LC_ALL=C sort)
listing=$(for file in $files; do printf '%s %s\n' "$file" "$(revision "$file")"; done)

# The worker's own code counts too: a new sw.js is a new build.
build=$( { printf '%s\n' "$listing"; revision "$template"; } | sha256sum | cut -c1-16)
sed -i "s|<meta name=\"build\" content=\"[^\"]*\"|<meta name=\"build\" content=\"$build\"|" index.html
# The page's scripts whose names carry no hash (lang.js, boot.js) are asked for as NAME?v=BUILD,
# so that no cache can answer a new build's page with an old build's copy: the browser's memory
# cache answers a reloaded page's scripts before its service worker sees the request.
sed -i -E "s#(<script[^>]* src=\"(\./)?[A-Za-z_]+\.js)(\?v=[0-9a-f]*)?\"#\1?v=$build\"#g" index.html
listing=$(printf '%s\nindex.html %s\n' "$listing" "$(revision index.html)")

{
  printf '// Written by scripts/offline-manifest.sh: this build, and its files with their revisions.\n'
  printf '// Build %s.\nconst ENABLED = %s;\nconst FILES = {\n' "$build" "$enabled"
  printf '%s\n' "$listing" | while read -r file rev; do printf '  "%s": "%s",\n' "$file" "$rev"; done
  printf '};\n\n'
  cat "$template"
} > sw.js
echo "offline-manifest: build $build, $(printf '%s\n' "$listing" | wc -l) files, offline copy $enabled"
