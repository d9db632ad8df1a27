#!/usr/bin/env bash
# Fails if a package in a published crate's dependency tree declares a `rust-version` above the
# crate's own: the tree is the locked one, with all features, normal and build dependencies, for
# every target platform. Our own code's side of the minimum is clippy's `incompatible_msrv` lint
# (std APIs newer than `rust-version`), which `cargo clippy -D warnings` runs in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v jq >/dev/null 2>&1 || {
    echo "check-msrv.sh needs jq (apt-get install jq)" >&2
    exit 1
}

report=$(cargo metadata --format-version 1 --all-features --locked | jq -r '
    # "1.85" and "1.85.0" compare equal; a missing rust-version is no constraint.
    def version: (. // "0") | split(".") | map(tonumber) | (. + [0, 0, 0])[:3];

    (.packages | map({key: .id, value: .}) | from_entries) as $packages
    | (.resolve.nodes
        | map({key: .id, value: [.deps[]
            | select(any(.dep_kinds[]; .kind == null or .kind == "build")) | .pkg]})
        | from_entries) as $edges
    | .workspace_members[] as $member
    | $packages[$member]
    | select(.publish == null)
    | . as $crate
    # Every package reachable from the crate through normal and build dependencies.
    | {seen: {}, todo: [$member]}
    | until(.todo == [];
        .todo[0] as $id
        | .todo |= .[1:]
        | if .seen[$id] then . else .seen[$id] = true | .todo += $edges[$id] end)
    | [.seen | keys[] | $packages[.] | select(.id != $member)] as $tree
    | ($tree | max_by(.rust_version | version)) as $highest
    | ($tree | map(select((.rust_version | version) > ($crate.rust_version | version)))) as $above
    | if $above == [] then
        "ok \($crate.name) \($crate.version): rust-version \($crate.rust_version), "
        + "\($tree | length) packages in its tree, the highest \($highest.name) "
        + "\($highest.version) (\($highest.rust_version))"
      else
        $above[] | "FAIL \($crate.name) \($crate.version) declares rust-version "
        + "\($crate.rust_version), but its dependency \(.name) \(.version) declares \(.rust_version)"
      end
')
printf '%s\n' "$report"
if printf '%s\n' "$report" | grep -q '^FAIL'; then
    echo "raise rust-version in Cargo.toml's [workspace.package], or pin the dependency lower" >&2
    exit 1
fi
