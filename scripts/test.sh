#!/usr/bin/env bash
# The tests: installs what is missing, then formatting, lints and every test (unit, doc and
# integration), in release mode (the statistical tests push 100k+ packets each).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cargo fmt --all -- --check
cargo clippy --release --all-targets --quiet -- -D warnings
cargo test --release
# The regression run CI does over scenarios/: every scenario must meet its expectations, and no
# metric may be worse than the committed baseline beyond compare's tolerances.
target/release/callharness run scenarios --quiet --out target/ci-run
target/release/callharness compare reports/baseline/report.json target/ci-run/report.json
