#!/usr/bin/env bash
# The main job. Today: the `dicomweb` program converts real DICOM files (pydicom's test files, in
# dicomweb-core/tests/golden/) Part 10 → DICOM JSON → Native DICOM Model XML → DICOM JSON and
# checks that nothing was lost on the way. The DICOMweb round trip against a real Orthanc
# (store, search, retrieve, transfer as a job) replaces this once the client's store and retrieve
# commands land (issue 4).
set -euo pipefail
cd "$(dirname "$0")/.."

printf '==> prerequisites\n'
bash scripts/install-deps.sh

printf '==> cargo build --release --bin dicomweb\n'
cargo build --release --bin dicomweb --locked
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
dicomweb="$target_dir/release/dicomweb"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

files=(dicomweb-core/tests/golden/*.dcm)
n=0
for file in "${files[@]}"; do
    n=$((n + 1))
    name=$(basename "$file" .dcm)
    "$dicomweb" convert "$file" --to json -o "$work/$name.json"
    "$dicomweb" convert "$work/$name.json" --to xml -o "$work/$name.xml"
    "$dicomweb" convert "$work/$name.xml" --to json -o "$work/$name.again.json"
    if ! cmp -s "$work/$name.json" "$work/$name.again.json"; then
        echo "FAILED: $name: Part 10 → JSON → XML → JSON changed the data set" >&2
        exit 1
    fi
    printf '  [%2d/%d] %-28s %8d B Part 10 → %8d B JSON → %8d B XML → same JSON\n' \
        "$n" "${#files[@]}" "$name" "$(stat -c %s "$file")" \
        "$(stat -c %s "$work/$name.json")" "$(stat -c %s "$work/$name.xml")"
done
printf '==> OK: %d files converted losslessly\n' "$n"
