#!/usr/bin/env bash
# Open a coroner report.html in headless Chromium, as a person would from disk: take a
# screenshot and check the DOM the browser built from it.
#
#   scripts/check_report.sh DIR/report.html OUT.png
#
# Checks: the page loads from file:// with the network unreachable, the DOM has at least
# MIN_CHARTS (default 4) `class="chart"` SVGs and the report's sections, it holds no
# <script> element, and it is not a browser error page. Exit 0 when the checks pass, or when no Chromium is installed
# ("chromium not found: skipped"); 1 when a check fails; 2 on bad usage.
set -euo pipefail
# Bytes, not characters: the URL encoding below works on bytes.
export LC_ALL=C

if [ $# -ne 2 ]; then
    echo "usage: $0 REPORT.html OUT.png" >&2
    exit 2
fi
html=$1
png=$2
min_charts=${MIN_CHARTS:-4}

if [ ! -f "$html" ]; then
    echo "$html: no such file" >&2
    exit 2
fi

chrome=""
for c in chromium chromium-browser google-chrome google-chrome-stable; do
    if command -v "$c" >/dev/null 2>&1; then
        chrome=$(command -v "$c")
        break
    fi
done
if [ -z "$chrome" ]; then
    echo "chromium not found: skipped"
    exit 0
fi

abs=$(realpath "$html")
# file:// URL: percent-encode what a path may hold that a URL may not.
url="file://"
while IFS= read -r -n1 ch; do
    case "$ch" in
        [A-Za-z0-9/._~-]) url+="$ch" ;;
        "") ;;
        *) url+=$(printf '%%%02X' "'$ch") ;;
    esac
done <<<"$abs"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A throwaway profile; no host resolves, so nothing can come from the network.
flags=(
    --headless=new --disable-gpu --no-sandbox --hide-scrollbars
    --no-first-run --no-default-browser-check --disable-extensions
    --user-data-dir="$tmp/profile" --host-resolver-rules="MAP * ~NOTFOUND"
)

mkdir -p "$(dirname "$png")"
rm -f "$png"
if ! timeout 120 "$chrome" "${flags[@]}" --screenshot="$png" --window-size=1400,3000 "$url" \
    >"$tmp/shot.out" 2>"$tmp/shot.err"; then
    echo "FAIL: chromium could not take the screenshot:" >&2
    tail -5 "$tmp/shot.err" >&2
    exit 1
fi
if ! timeout 120 "$chrome" "${flags[@]}" --dump-dom "$url" >"$tmp/dom.html" 2>"$tmp/dom.err"; then
    echo "FAIL: chromium could not dump the DOM:" >&2
    tail -5 "$tmp/dom.err" >&2
    exit 1
fi

fail=0
if [ ! -s "$png" ]; then
    echo "FAIL: no screenshot at $png" >&2
    fail=1
fi
charts=$({ grep -o 'class="chart"' "$tmp/dom.html" || true; } | wc -l | tr -d ' ')
if [ "$charts" -lt "$min_charts" ]; then
    echo "FAIL: $charts class=\"chart\" element(s) in the DOM, want at least $min_charts" >&2
    fail=1
fi
for id in headline timeline sockets templates timewait findings; do
    if ! grep -q "id=\"$id\"" "$tmp/dom.html"; then
        echo "FAIL: section id=\"$id\" missing from the DOM" >&2
        fail=1
    fi
done
# The report has no script at all: one in the DOM is log content that escaped escaping.
if grep -qi '<script' "$tmp/dom.html"; then
    echo "FAIL: a <script> element in the DOM" >&2
    fail=1
fi
# Chromium's error pages (file not found, blocked, crashed renderer).
for marker in 'id="main-frame-error"' 'neterror' 'ERR_FILE_NOT_FOUND' 'ERR_ACCESS_DENIED' \
    'ERR_NAME_NOT_RESOLVED' "This site can’t be reached" "This page isn’t working" \
    'Aw, Snap!'; do
    if grep -qF "$marker" "$tmp/dom.html"; then
        echo "FAIL: error page marker in the DOM: $marker" >&2
        fail=1
    fi
done
if [ "$fail" -ne 0 ]; then
    exit 1
fi
echo "ok: $charts charts, DOM $(wc -c <"$tmp/dom.html" | tr -d ' ') bytes, screenshot $png ($(wc -c <"$png" | tr -d ' ') bytes)"
