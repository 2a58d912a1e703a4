#!/usr/bin/env bash
# The study's HTML report in a real browser: Debian's chromium, headless, renders report.html
# (inline SVG, no script, no network), takes a screenshot, dumps the DOM it built, and logs
# every console message to stderr. Passes when the three charts and their marks are in the
# rendered DOM, the screenshot is a real image, and the console logged nothing.
# Usage: tests/report/report.sh MEMHP_BINARY [KEEP_DIR]. 77 = chromium cannot be installed.
set -euo pipefail
memhp=${1:?usage: report.sh MEMHP_BINARY [KEEP_DIR]}
if ! command -v chromium >/dev/null; then
	if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null 2>&1 || true; fi
	command -v chromium >/dev/null || { echo "report.sh: chromium cannot be installed; skipped"; exit 77; }
fi
out=${2:-$(mktemp -d)}
mkdir -p "$out"
"$memhp" study hvo --mem 1G --maxmem 4G --dimm 1G --pool 25 --page-size 2M --pressure none,fill:1M \
	--online movable --reps 2 --plain --validation none -o "$out" >"$out/summary.txt" 2>"$out/progress.txt"
chrome=(chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-extensions --disable-background-networking
	--user-data-dir="$out/chromium-profile" --enable-logging=stderr --v=0)
timeout 120 "${chrome[@]}" --window-size=1200,2400 --screenshot="$out/report.png" "file://$out/report.html" 2>"$out/chromium.log" >/dev/null
timeout 120 "${chrome[@]}" --dump-dom "file://$out/report.html" >"$out/dom.html" 2>>"$out/chromium.log"

fail() { echo "report.sh: $*"; echo "(files in $out)"; exit 1; }
[ -s "$out/report.png" ] || fail "no screenshot"
[ "$(head -c 8 "$out/report.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "the screenshot is not a PNG"
[ "$(stat -c %s "$out/report.png")" -gt 20000 ] || fail "the screenshot is nearly empty ($(stat -c %s "$out/report.png") bytes)"
for id in chart-saving chart-pressure chart-blocks; do
	grep -q "<svg id=\"$id\"" "$out/dom.html" || fail "chart $id is not in the rendered DOM"
done
circles=$(grep -o '<circle' "$out/dom.html" | wc -l)
[ "$circles" -ge 8 ] || fail "only $circles data markers rendered (4 points + 4 pressure marks expected)"
blocks=$(sed -n '/<svg id="chart-blocks"/,/<\/svg>/p' "$out/dom.html" | grep -o '<title>memory[0-9]*' | wc -l)
[ "$blocks" = 8 ] || fail "the block map shows $blocks blocks, the DIMM has 8"
if grep -E 'CONSOLE|Uncaught|ERROR:.*(report\.html|Failed to load)' "$out/chromium.log"; then fail "the browser logged console errors"; fi
echo "report.sh: report rendered: 3 charts, $circles markers, $blocks blocks; screenshot $out/report.png"
