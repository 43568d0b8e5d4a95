#!/usr/bin/env bash
# The demo: installs what is missing, builds, and runs every scenario in scenarios/ on the
# built-in emulated network. Reports go to reports/latest (report.html is the one to open).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo build --release --quiet
exec target/release/callharness run scenarios --out reports/latest "$@"
