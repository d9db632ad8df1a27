#!/usr/bin/env bash
# The project's one test command (the README's and CI's): formatting, lints, docs as docs.rs
# builds them, the sans-IO dependency check, the rust-version check, every test, and packaging
# of the published crates. Installs what the tests need on a fresh Debian machine.
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

step "rust-version covers every dependency of the published crates"
bash scripts/check-msrv.sh

step "cargo clippy"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

step "cargo doc, as docs.rs builds it (all features, --cfg docsrs: feature badges)"
# docs.rs uses nightly rustdoc; RUSTC_BOOTSTRAP lets this stable one accept `feature(doc_cfg)`,
# which the crate roots turn on under `cfg(docsrs)` only. Plain `cargo doc` (no docsrs) builds the
# same pages without the badges.
RUSTC_BOOTSTRAP=1 RUSTDOCFLAGS="--cfg docsrs -D warnings" \
    cargo doc --workspace --no-deps --all-features --locked
for page in dicomweb_core/part10/index.html:part10 \
    dicomweb_client/struct.ReqwestTransport.html:reqwest dicomweb_client/jobs/index.html:jobs \
    gcp_credentials/transport/struct.ReqwestClient.html:reqwest \
    orthanc_jobs/store/struct.SqliteStore.html:sqlite orthanc_jobs/http/index.html:axum \
    orthanc_jobs/store/struct.PostgresStore.html:postgres; do
    grep -q "Available on <strong>crate feature <code>${page#*:}</code>" "target/doc/${page%:*}" || {
        echo "target/doc/${page%:*} lacks the badge for crate feature ${page#*:}" >&2
        exit 1
    }
done
echo "feature badges present"

step "cargo test"
cargo test --workspace --all-features --locked

step "cargo package: the published crates, each built on its own from its .crate"
# Every member not marked `publish = false`, packaged together (crates that depend on each other
# before any is on crates.io find each other through cargo's local overlay registry) and each
# built from its .crate. Debug info adds nothing to those builds but disk. CI packages a clean
# clone; a local run may package uncommitted work.
# (A command substitution, not `< <(…)`: `set -e` sees it fail.)
metadata=$(cargo metadata --no-deps --format-version 1 --locked)
names=$(jq -r '.packages[] | select(.publish == null) | .name' <<<"$metadata")
mapfile -t published <<<"$names"
if [ -z "$names" ] || [ ${#published[@]} -eq 0 ]; then
    echo "expected the published crates from cargo metadata, found none" >&2
    exit 1
fi
# Cargo unpacks the overlay's .crate files under $CARGO_HOME/registry/src/-<hash of the overlay's
# path>/NAME-VERSION and, finding that folder already there, reuses it: a second run from the
# same path with the same version numbers would build the crates that depend on ours against
# the sources of an earlier run. Remove those stale copies (the overlay folders are the ones
# whose name starts with "-"; crates.io's are named after its index).
# Packaging runs of other checkouts on this machine unpack into folders of their own, which this
# removal reaches too: the runs take turns (a lock in the cargo home) so that none loses its
# copy while it builds from it.
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
mkdir -p "$cargo_home"
exec 9>"$cargo_home/dicomweb-package.lock"
flock 9
for crate in $(jq -r '.packages[] | select(.publish == null) | "\(.name)-\(.version)"' <<<"$metadata"); do
    rm -rf "$cargo_home"/registry/src/-*/"$crate"
done
dirty=()
[ "${CI:-}" = true ] || dirty=(--allow-dirty)
started=$SECONDS
CARGO_PROFILE_DEV_DEBUG=false cargo package --locked "${dirty[@]}" "${published[@]/#/--package=}"
echo "packaged ${published[*]} in $((SECONDS - started)) s"
exec 9>&-

step "disk used by target/"
du -sh target 2>/dev/null || true
