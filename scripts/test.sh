#!/usr/bin/env bash
# The project's one test command (the README's and CI's): formatting, lints, docs, the sans-IO
# dependency check, and every test. Installs what the tests need on a fresh Debian machine.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

# A clean clone gains nothing from incremental compilation and its caches double the size of
# target/; the CI machine's disk is small. A caller can still set its own value.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

step "prerequisites"
bash scripts/install-deps.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "dicomweb-core stays sans-IO (no tokio, hyper or reqwest in its tree)"
bash scripts/check-core-deps.sh

step "cargo clippy"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

step "cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features --locked

step "cargo test"
cargo test --workspace --all-features --locked

step "disk used by target/"
du -sh target 2>/dev/null || true
