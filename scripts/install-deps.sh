#!/usr/bin/env bash
# Installs what the tests and the main job need and a fresh Debian machine lacks:
# Orthanc with its DICOMweb plugin (integration tests, golden files), dcmtk (golden files) and jq
# (scripts/check-msrv.sh reads cargo metadata with it).
set -euo pipefail

need=()
command -v Orthanc >/dev/null 2>&1 || [ -x /usr/sbin/Orthanc ] || need+=(orthanc)
[ -e /usr/share/orthanc/plugins/libOrthancDicomWeb.so ] || need+=(orthanc-dicomweb)
command -v dcm2json >/dev/null 2>&1 || need+=(dcmtk)
command -v jq >/dev/null 2>&1 || need+=(jq)

if [ ${#need[@]} -eq 0 ]; then
    echo "prerequisites present: orthanc, orthanc-dicomweb, dcmtk, jq"
    exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
        echo "need root to run: apt-get install -y ${need[*]}" >&2
        exit 1
    }
    sudo=(sudo)
fi
echo "installing: ${need[*]}"
"${sudo[@]}" apt-get update -qq
# The orthanc package starts a system service on install; policy-rc.d refusing that is fine.
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}"
# Our tests start their own Orthanc on a free loopback port; the system service is not needed.
if command -v systemctl >/dev/null 2>&1; then "${sudo[@]}" systemctl stop orthanc >/dev/null 2>&1 || true; fi
"${sudo[@]}" pkill -x Orthanc >/dev/null 2>&1 || true
