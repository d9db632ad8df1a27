#!/usr/bin/env bash
# Fails if tokio, hyper or reqwest enter dicomweb-core's dependency tree, with any features.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=$(cargo tree -p dicomweb-core --all-features -e normal,build --prefix none --locked)
bad=$(printf '%s\n' "$tree" | grep -E '^(tokio|hyper|reqwest|async-std|mio)( |$)' | sort -u || true)
if [ -n "$bad" ]; then
    echo "dicomweb-core must do no IO, but its dependency tree contains:" >&2
    printf '  %s\n' "$bad" >&2
    exit 1
fi
echo "dicomweb-core: $(printf '%s\n' "$tree" | sort -u | wc -l) crates in its tree, none of tokio, hyper, reqwest"
