#!/usr/bin/env bash
# The main job: the `dicomweb` program through a real DICOMweb round trip.
#
#  1. installs Orthanc and its DICOMweb plugin if they are missing;
#  2. starts two Orthancs on free loopback ports, each with a temporary storage folder
#     ("source" and "destination");
#  3. generates a study (our own Part 10 writer: multi-frame 16-bit images);
#  4. `dicomweb store` stores it into the source (STOW-RS, batched, streamed from the files);
#  5. `dicomweb search` finds it (QIDO-RS) at study and instance level;
#  6. `dicomweb retrieve instances` retrieves it (WADO-RS, streamed to disk) and every file is
#     compared byte for byte with the one stored;
#  7. `dicomweb transfer` copies it from the source to the destination as a persistent job
#     (orthanc-jobs, SQLite state), and the destination's copy is retrieved and compared too;
#  8. `dcmsend` (dcmtk) sends it by DIMSE C-STORE to `dicomweb adapter`, which spools it and
#     uploads it by STOW-RS into a third Orthanc; every data set found there is compared byte
#     for byte with the one sent (the meta group is the adapter's own);
#     the source Orthanc then asks the adapter for storage commitment of the study (DIMSE
#     N-ACTION) and receives its N-EVENT-REPORT: every instance committed;
#  9. `dicomweb transfer` sends it from the destination to a DICOM device (dcmtk's `storescp`,
#     named in --config's DicomModalities) by C-STORE, as a persistent job; every data set
#     received there is compared with the one stored;
# 10. the jobs on PostgreSQL: a temporary cluster (initdb/pg_ctl, as the postgres user when
#     root), `dicomweb transfer --async --jobs-db` submits a copy to a fourth Orthanc and
#     `dicomweb jobs serve` (a worker with Orthanc's jobs REST API) runs it; the copy is
#     compared too;
# 11. stops the Orthancs, the adapter and the device and removes their folders.
#
# Progress bars show when the output is a terminal. Any failure stops the job with a message
# and a non-zero status.
set -euo pipefail
cd "$(dirname "$0")/.."

SERIES=${MAIN_JOB_SERIES:-3}
INSTANCES=${MAIN_JOB_INSTANCES:-8}
FRAMES=${MAIN_JOB_FRAMES:-4}

step() { printf '\n==> %s\n' "$*"; }
fail() {
    printf 'FAILED: %s\n' "$*" >&2
    exit 1
}

step "prerequisites"
bash scripts/install-deps.sh

step "cargo build --release (dicomweb, make-study)"
cargo build --release --locked -p dicomweb-cli -p dicomweb-examples --bin dicomweb --bin make-study
target_dir=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
dicomweb="$target_dir/release/dicomweb"
make_study="$target_dir/release/make-study"

work=$(mktemp -d)
pids=()
cleanup() {
    # PostgreSQL (started by pg_ctl, not a child of this script) when a later step failed.
    if declare -F stop_postgres >/dev/null; then stop_postgres; fi
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Starts an Orthanc named $1 with its own folder; sets $url_<name> to its DICOMweb root.
start_orthanc() {
    local name=$1 dir="$work/orthanc-$1" port dicom_port binary plugin
    binary=$(command -v Orthanc || echo /usr/sbin/Orthanc)
    plugin=${ORTHANC_DICOMWEB_PLUGIN:-/usr/share/orthanc/plugins/libOrthancDicomWeb.so}
    mkdir -p "$dir/storage"
    port=$(free_port)
    dicom_port=$(free_port)
    cat >"$dir/orthanc.json" <<EOF
{
  "Name": "main-job-$name", "StorageDirectory": "$dir/storage", "IndexDirectory": "$dir/storage",
  "HttpPort": $port, "RemoteAccessAllowed": false, "AuthenticationEnabled": false,
  "DicomServerEnabled": true, "DicomPort": $dicom_port, "DicomAet": "MAINJOB",
  "StableAge": 1, "Plugins": ["$plugin"],
  "DicomWeb": { "Enable": true, "Root": "/dicom-web/", "StudiesMetadata": "Full", "SeriesMetadata": "Full" }
}
EOF
    "$binary" "$dir/orthanc.json" >"$dir/orthanc.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 100); do
        if python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/system', timeout=1)" 2>/dev/null; then
            printf -v "url_$name" 'http://127.0.0.1:%s/dicom-web' "$port"
            printf -v "dicom_port_$name" '%s' "$dicom_port"
            printf '  Orthanc "%s" on 127.0.0.1:%s (storage %s)\n' "$name" "$port" "$dir/storage"
            return
        fi
        sleep 0.1
    done
    cat "$dir/orthanc.log" >&2
    fail "Orthanc \"$name\" did not answer on port $port"
}

# Compares every file of folder $1 with the file of the same name in folder $2.
same_files() {
    local a=$1 b=$2 n=0 file
    for file in "$a"/*.dcm; do
        cmp -s "$file" "$b/$(basename "$file")" || fail "$(basename "$file") differs between $a and $b"
        n=$((n + 1))
    done
    [ "$(find "$b" -name '*.dcm' | wc -l)" -eq "$n" ] || fail "$b holds other files than $a"
    echo "$n"
}

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# Waits until something listens on loopback port $1 (30 s at most).
wait_for_port() {
    python3 - "$1" <<'PY'
import socket, sys, time
for _ in range(300):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
PY
}

# Compares the data sets (the bytes after the meta group) of the Part 10 files in $1 and $2,
# matched by SOP Instance UID (the meta group's (0002,0003)); says how many, and "$3".
same_data_sets() {
    python3 - "$1" "$2" "$3" <<'PY'
import os, struct, sys
def parts(path):
    b = open(path, "rb").read()
    assert b[128:132] == b"DICM" and b[132:134] == b"\x02\x00" and b[136:138] == b"UL", path
    end = 144 + struct.unpack("<I", b[140:144])[0]
    at, sop = 144, None
    while at < end:
        group, element = struct.unpack("<HH", b[at:at + 4])
        vr = b[at + 4:at + 6]
        if vr in (b"OB", b"OW", b"OF", b"SQ", b"UT", b"UN"):
            length, value = struct.unpack("<I", b[at + 8:at + 12])[0], at + 12
        else:
            length, value = struct.unpack("<H", b[at + 6:at + 8])[0], at + 8
        if (group, element) == (2, 3):
            sop = b[value:value + length].rstrip(b"\0 ").decode()
        at = value + length
    return sop, b[end:]
def by_sop(folder):
    return dict(parts(os.path.join(folder, n)) for n in sorted(os.listdir(folder)))
sent, got = by_sop(sys.argv[1]), by_sop(sys.argv[2])
assert sorted(sent) == sorted(got), "other instances arrived"
for sop in sent:
    assert sent[sop] == got[sop], sop
print(f"  {len(sent)} instances {sys.argv[3]}, each data set byte-identical")
PY
}

step "start two Orthancs (source, destination) on free loopback ports"
start_orthanc source
start_orthanc destination

step "generate a study: $SERIES series x $INSTANCES instances, $FRAMES frames of 256x256 16-bit each"
made=$("$make_study" --out "$work/study" --series "$SERIES" --instances "$INSTANCES" \
    --rows 256 --columns 256 --frames "$FRAMES" --seed 2026)
study=$(echo "$made" | json 'd["study"]')
count=$(echo "$made" | json 'd["instances"]')
printf '  study %s: %s instances, %s bytes\n' "$study" "$count" "$(echo "$made" | json 'd["bytes"]')"

step "dicomweb store → source (STOW-RS, batches of 4, 2 in flight)"
"$dicomweb" --url "$url_source" store "$work/study" --batch-instances 4 --concurrency 2 >"$work/store.json"
stored=$(json 'd["stored"]' <"$work/store.json")
[ "$stored" -eq "$count" ] || fail "stored $stored of $count instances: $(cat "$work/store.json")"
printf '  stored %s instances\n' "$stored"

step "dicomweb search (QIDO-RS)"
"$dicomweb" --url "$url_source" search studies -m "StudyInstanceUID=$study" -i StudyDescription >"$work/studies.json"
found=$(json 'len(d)' <"$work/studies.json")
[ "$found" -eq 1 ] || fail "the study search found $found studies"
"$dicomweb" --url "$url_source" search instances --study "$study" --limit 5 --all-pages >"$work/instances.json"
found=$(json 'len(d)' <"$work/instances.json")
[ "$found" -eq "$count" ] || fail "the instance search (pages of 5) found $found of $count instances"
printf '  1 study; %s instances in pages of 5\n' "$found"

step "dicomweb retrieve instances ← source (WADO-RS, streamed to disk)"
"$dicomweb" --url "$url_source" retrieve instances --study "$study" --out "$work/retrieved" >/dev/null
n=$(same_files "$work/study" "$work/retrieved")
printf '  %s files, each byte-identical to the one stored\n' "$n"

step "dicomweb transfer source → destination (a persistent job)"
"$dicomweb" transfer --from "$url_source" --to "$url_destination" --study "$study" \
    --state "$work/jobs" >"$work/transfer.json"
"$dicomweb" jobs list --state "$work/jobs" >"$work/jobs.json"
state=$(json 'd[0]["State"]' <"$work/jobs.json")
[ "$state" = "Success" ] || fail "the transfer job ended in state $state: $(cat "$work/jobs.json")"
"$dicomweb" --url "$url_destination" retrieve instances --study "$study" --out "$work/copied" >/dev/null
n=$(same_files "$work/study" "$work/copied")
printf '  job %s: %s; %s files at the destination, byte-identical\n' \
    "$(json 'd[0]["ID"]' <"$work/jobs.json")" "$state" "$n"

step "dcmsend → dicomweb adapter → a third Orthanc (DIMSE C-STORE, spooled, STOW-RS)"
start_orthanc adapted
dimse_port=$(free_port)
# The source Orthanc's DICOM side, where storage commitment results go (below).
printf '{ "DicomModalities": { "source": ["MAINJOB", "127.0.0.1", %s] } }\n' \
    "$dicom_port_source" >"$work/adapter-modalities.json"
"$dicomweb" --url "$url_adapted" adapter --listen "127.0.0.1:$dimse_port" --aet MAINJOB-ADAPTER \
    --state "$work/adapter-state" --modalities "$work/adapter-modalities.json" \
    2>"$work/adapter.log" &
pids+=($!)
wait_for_port "$dimse_port" || fail "the adapter did not listen: $(cat "$work/adapter.log")"
dcmsend -aet MAINJOB -aec MAINJOB-ADAPTER 127.0.0.1 "$dimse_port" "$work"/study/*.dcm ||
    fail "dcmsend through the adapter failed: $(tail -20 "$work/adapter.log")"
arrived=0
for _ in $(seq 1 120); do
    "$dicomweb" --url "$url_adapted" search instances --study "$study" --all-pages >"$work/adapted.json" 2>/dev/null || true
    arrived=$(json 'len(d)' <"$work/adapted.json" 2>/dev/null || echo 0)
    [ "$arrived" -eq "$count" ] && break
    sleep 0.5
done
[ "$arrived" -eq "$count" ] || fail "$arrived of $count instances arrived through the adapter: $(tail -20 "$work/adapter.log")"
"$dicomweb" --url "$url_adapted" retrieve instances --study "$study" --out "$work/adapted" >/dev/null
same_data_sets "$work/study" "$work/adapted" "through the adapter" ||
    fail "a data set differs after the adapter"
for _ in $(seq 1 50); do
    [ -z "$(ls "$work/adapter-state/spool")" ] && break
    sleep 0.2
done
[ -z "$(ls "$work/adapter-state/spool")" ] || fail "the adapter's spool was not emptied"

step "storage commitment: the source Orthanc (DIMSE N-ACTION) asks the adapter to commit to the study"
orthanc_source=${url_source%/dicom-web}
curl -sf -X PUT "$orthanc_source/modalities/adapter" \
    -d "[\"MAINJOB-ADAPTER\", \"127.0.0.1\", $dimse_port]" >/dev/null ||
    fail "the source Orthanc did not take the adapter as a modality"
"$dicomweb" --url "$url_source" search instances --study "$study" --all-pages \
    --include SOPClassUID >"$work/committed.json"
json '__import__("json").dumps({"DicomInstances": [{"SOPClassUID": i["00080016"]["Value"][0],
    "SOPInstanceUID": i["00080018"]["Value"][0]} for i in d]})' \
    <"$work/committed.json" >"$work/commitment-request.json"
curl -sf -X POST "$orthanc_source/modalities/adapter/storage-commitment" \
    -d @"$work/commitment-request.json" >"$work/commitment.json" ||
    fail "the source Orthanc could not ask for storage commitment: $(tail -5 "$work/adapter.log")"
report_path=$(json 'd["Path"]' <"$work/commitment.json")
status=Pending
for _ in $(seq 1 300); do
    curl -sf "$orthanc_source$report_path" >"$work/commitment-report.json" || true
    status=$(json 'd["Status"]' <"$work/commitment-report.json" 2>/dev/null || echo Pending)
    [ "$status" != Pending ] && break
    sleep 0.2
done
committed=$(json 'len(d["Success"])' <"$work/commitment-report.json")
[ "$status" = Success ] && [ "$committed" -eq "$count" ] ||
    fail "storage commitment: $status, $committed of $count committed: $(cat "$work/commitment-report.json")"
printf '  the adapter committed to all %s instances (N-EVENT-REPORT to the source Orthanc)\n' "$count"

step "dicomweb transfer destination → a DICOM device (dcmtk's storescp, by C-STORE, as a job)"
device_port=$(free_port)
mkdir -p "$work/device"
storescp -aet MAINJOB-DEVICE -od "$work/device" "$device_port" >"$work/storescp.log" 2>&1 &
pids+=($!)
wait_for_port "$device_port" || fail "storescp did not listen: $(cat "$work/storescp.log")"
printf '{ "DicomModalities": { "device": ["MAINJOB-DEVICE", "127.0.0.1", %s] } }\n' \
    "$device_port" >"$work/devices.json"
"$dicomweb" --config "$work/devices.json" transfer --from "$url_destination" --to device \
    --study "$study" --state "$work/jobs" >"$work/to-device.json"
state=$(json 'd[0]["State"]' <"$work/to-device.json")
[ "$state" = "Success" ] || fail "the transfer to the device ended in state $state: $(cat "$work/to-device.json")"
same_data_sets "$work/study" "$work/device" "at the device" ||
    fail "a data set differs at the device"

step "jobs on PostgreSQL: transfer --async --jobs-db, run by a 'dicomweb jobs serve' worker"
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ] || fail "PostgreSQL is missing: apt-get install postgresql"
pg_dir="$work/postgres"
mkdir -p "$pg_dir"
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
    # PostgreSQL refuses to run as root: its folder belongs to the postgres user.
    chown postgres "$pg_dir"
    chmod 711 "$work"
    as_pg=(runuser -u postgres --)
fi
pg_port=$(free_port)
"${as_pg[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -U postgres -A trust -E UTF8 --locale=C \
    --no-sync >"$work/initdb.log" 2>&1 || fail "initdb failed: $(cat "$work/initdb.log")"
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/postgres.log" -w -t 60 \
    -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1" start >/dev/null ||
    fail "PostgreSQL did not start: $(cat "$pg_dir/postgres.log")"
stop_postgres() {
    "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast stop >/dev/null 2>&1 || true
}
jobs_db="postgres://postgres@127.0.0.1:$pg_port/postgres"
printf '  PostgreSQL on 127.0.0.1:%s\n' "$pg_port"
start_orthanc worked
"$dicomweb" transfer --async --jobs-db "$jobs_db" --from "$url_source" --to "$url_worked" \
    --study "$study" >"$work/submitted.json"
api_port=$(free_port)
"$dicomweb" jobs serve --jobs-db "$jobs_db" --listen "127.0.0.1:$api_port" \
    >"$work/serve.log" 2>&1 &
serve_pid=$!
pids+=("$serve_pid")
state=""
for _ in $(seq 1 240); do
    state=$(python3 -c "import json,urllib.request; print(json.load(urllib.request.urlopen('http://127.0.0.1:$api_port/jobs?expand', timeout=2))[0]['State'])" 2>/dev/null || true)
    [ "$state" = "Success" ] && break
    sleep 0.25
done
[ "$state" = "Success" ] || { stop_postgres; fail "the PostgreSQL job is '$state': $(tail -20 "$work/serve.log")"; }
kill -TERM "$serve_pid"
wait "$serve_pid" || { stop_postgres; fail "jobs serve did not stop cleanly on SIGTERM: $(tail -20 "$work/serve.log")"; }
stop_postgres
"$dicomweb" --url "$url_worked" retrieve instances --study "$study" --out "$work/worked" >/dev/null
n=$(same_files "$work/study" "$work/worked")
printf '  job %s run by a jobs serve worker (REST /jobs: Success); %s files, byte-identical\n' \
    "$(json 'd[0]["ID"]' <"$work/submitted.json")" "$n"

step "stop the Orthancs, the adapter and the device"
cleanup
trap - EXIT
printf '\n==> OK: stored, searched, retrieved, transferred (to DICOMweb, to a DICOM device, on PostgreSQL) and sent by DIMSE (storage commitment confirmed) %s instances; all byte-identical\n' "$count"
