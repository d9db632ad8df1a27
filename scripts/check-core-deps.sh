#!/usr/bin/env bash
# Fails if tokio, hyper or reqwest enter dicomweb-core's dependency tree, with any features;
# if dicomweb-client's `gcp` feature brings an HTTP stack of its own (token requests go over
# the client's transport); or if the client without features depends on `ring` (gcp-credentials'
# heavy part, which only `gcp` turns on).
set -euo pipefail
cd "$(dirname "$0")/.."

# The crates among `pattern` in the normal dependency tree of `cargo tree $args`.
found() {
    local pattern=$1
    shift
    local tree
    # A failing `cargo tree` (a renamed feature, a stale lock) stops the script here instead of
    # reading as an empty, clean tree.
    tree=$(cargo tree "$@" -e normal,build --prefix none --locked) || return 1
    printf '%s\n' "$tree" | grep -E "^(${pattern})( |$)" | sort -u || true
}

tree=$(cargo tree -p dicomweb-core --all-features -e normal,build --prefix none --locked)
bad=$(printf '%s\n' "$tree" | grep -E '^(tokio|hyper|reqwest|async-std|mio)( |$)' | sort -u || true)
if [ -n "$bad" ]; then
    echo "dicomweb-core must do no IO, but its dependency tree contains:" >&2
    printf '  %s\n' "$bad" >&2
    exit 1
fi
echo "dicomweb-core: $(printf '%s\n' "$tree" | sort -u | wc -l) crates in its tree, none of tokio, hyper, reqwest"

bad=$(found 'reqwest|hyper|hyper-util|hyper-rustls' -p dicomweb-client --no-default-features --features gcp)
if [ -n "$bad" ]; then
    echo "dicomweb-client --no-default-features --features gcp must use the client's transport for" >&2
    echo "token requests, but its dependency tree contains:" >&2
    printf '  %s\n' "$bad" >&2
    exit 1
fi
echo "dicomweb-client --no-default-features --features gcp: no reqwest, no hyper"

bad=$(found 'ring|reqwest' -p dicomweb-client --no-default-features)
if [ -n "$bad" ]; then
    echo "dicomweb-client --no-default-features must not depend on gcp-credentials' heavy part," >&2
    echo "but its dependency tree contains:" >&2
    printf '  %s\n' "$bad" >&2
    exit 1
fi
echo "dicomweb-client --no-default-features: no ring, no reqwest"
