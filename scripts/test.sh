#!/usr/bin/env bash
# The project's one test command (the README's and CI's): formatting, lints, docs, the sans-IO
# dependency check, and every test. Installs what the tests need on a fresh Debian machine.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

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
