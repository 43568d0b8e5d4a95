#!/usr/bin/env bash
# Renders a report.html to a PNG in headless Chromium, so a person can look at what the HTML
# writer produced (issue 10: "check it in a real headless browser ... with a screenshot").
#
# Usage:
#   harness/report/check_html.sh [REPORT.html] [OUT.png] [WIDTHxHEIGHT]
#
#   REPORT.html   the page to render; without it, the writers' sample report
#                 (harness/report/fixture.rs) is written first, with
#                 `cargo test write_fixture_reports -- --ignored`, into $REPORT_FIXTURE_OUT
#                 (default: target/report-fixture) and its report.html is rendered.
#   OUT.png       where the screenshot goes (default: REPORT.html with .png).
#   WIDTHxHEIGHT  the window, default 1280x2000 (the height is what gets captured; use a
#                 taller one, e.g. 1280x9000, to see the whole page).
#
# Before the screenshot, the page's tag structure is checked with xmllint when it is installed
# (the writers' tests check the same: html/calls.rs). The sample run's service scenario
# (accounts, refused calls, where the failures point) is written beside it, in service/.
#
# Needs Chromium (Debian: apt-get install -y chromium). The browser runs with no network
# access to anything (the page must need none: it is self-contained), no GPU, a throwaway
# profile, and no sandbox (it runs as root in CI containers).
#
# Then look at the PNG. What to check: the verdict header and its colour; the incomplete-run
# warning when the run is incomplete; tables readable, unmet expectations in red; one row of five
# charts per stream with the outage as a shaded band and the other events as numbered dashed
# lines; the timeline's labels not overlapping; nothing cut off at the right edge.
set -euo pipefail

html="${1:-}"
if [[ -z "$html" ]]; then
  out_dir="${REPORT_FIXTURE_OUT:-$PWD/target/report-fixture}"
  echo "writing the sample report into $out_dir" >&2
  REPORT_FIXTURE_OUT="$out_dir" cargo test --quiet --lib write_fixture_reports -- --ignored >&2
  html="$out_dir/report.html"
fi
[[ -f "$html" ]] || { echo "check_html.sh: no such file: $html" >&2; exit 2; }
html="$(cd "$(dirname "$html")" && pwd)/$(basename "$html")"
# Structure first: xmllint's HTML parser must find no mismatched or stray tags (it does not
# know HTML5 sectioning elements or SVG, so "Tag ... invalid" is all it may say).
if command -v xmllint >/dev/null 2>&1; then
  errors="$(xmllint --html --noout --nonet "$html" 2>&1 | grep 'parser error' \
    | grep -Ev ': Tag [A-Za-z0-9]+ invalid$' || true)"
  if [[ -n "$errors" ]]; then
    echo "check_html.sh: $html is not well-formed HTML:" >&2
    echo "$errors" >&2
    exit 1
  fi
else
  echo "check_html.sh: xmllint is missing, structure not checked (apt-get install -y libxml2-utils)" >&2
fi
png="${2:-${html%.html}.png}"
size="${3:-1280x2000}"
mkdir -p "$(dirname "$png")"

browser="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
if [[ -z "$browser" ]]; then
  echo "check_html.sh: Chromium is missing (Debian/Ubuntu: apt-get install -y chromium)" >&2
  exit 2
fi

profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --hide-scrollbars \
  --user-data-dir="$profile" --window-size="${size/x/,}" \
  --screenshot="$png" "file://$html" >/dev/null 2>"$profile/chromium.log" || {
  echo "check_html.sh: Chromium failed:" >&2
  cat "$profile/chromium.log" >&2
  exit 1
}
[[ -s "$png" ]] || { echo "check_html.sh: no screenshot written" >&2; exit 1; }
echo "$png"
