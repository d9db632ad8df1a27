#!/usr/bin/env bash
# Installs what the tests and the main job need and a fresh Debian machine lacks:
# Orthanc with its DICOMweb plugin (integration tests, golden files), dcmtk (golden files), jq
# (scripts/check-msrv.sh reads cargo metadata with it) and PostgreSQL (the job store's tests
# start their own cluster with its initdb and pg_ctl; the package's own cluster is not used; its
# TLS test makes certificates with openssl), curl (the main job asks Orthanc's REST API for a
# storage commitment; the retrieve benchmark's baseline).
set -euo pipefail

need=()
command -v Orthanc >/dev/null 2>&1 || [ -x /usr/sbin/Orthanc ] || need+=(orthanc)
[ -e /usr/share/orthanc/plugins/libOrthancDicomWeb.so ] || need+=(orthanc-dicomweb)
command -v dcm2json >/dev/null 2>&1 || need+=(dcmtk)
command -v jq >/dev/null 2>&1 || need+=(jq)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v curl >/dev/null 2>&1 || need+=(curl)

if [ ${#need[@]} -eq 0 ]; then
    echo "prerequisites present: orthanc, orthanc-dicomweb, dcmtk, jq, postgresql, openssl, curl"
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

# The orthanc package starts (and, when a plugin arrives, restarts) its system service through
# invoke-rc.d. Our tests start their own Orthanc on a free loopback port and need no service,
# so a policy-rc.d that refuses every action keeps it from starting. It is put in place only
# when the machine has none (a Docker image's already refuses) and removed afterwards. No
# process is ever stopped by name: a user's own Orthanc keeps running.
policy=/usr/sbin/policy-rc.d
marker="installed by dicomweb's scripts/install-deps.sh"
remove_policy() {
    if grep -qs "$marker" "$policy"; then "${sudo[@]}" rm -f "$policy"; fi
}
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# %s for the length of one apt-get install.\nexit 101\n' "$marker" |
        "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod 755 "$policy"
    trap remove_policy EXIT
    trap 'exit 130' INT TERM
fi

# Whether the orthanc service runs: its systemd unit, or the init script's pidfile.
service_running() {
    if [ -d /run/systemd/system ]; then
        systemctl is-active --quiet orthanc.service
    else
        [ -s /run/orthanc.pid ] && [ -d "/proc/$(cat /run/orthanc.pid)" ]
    fi
}
was_running=false
if service_running; then was_running=true; fi

"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
remove_policy
if $was_running; then
    echo "the orthanc service was running before and was left alone: restart it to load new plugins"
fi

# A policy-rc.d that was already there may allow starts. Then stop the service only if this
# install started it, and only that service: its unit, or the process in its pidfile.
if ! $was_running && service_running; then
    echo "stopping the orthanc service that the install started"
    if [ -d /run/systemd/system ]; then
        "${sudo[@]}" systemctl stop orthanc.service
    else
        "${sudo[@]}" start-stop-daemon --stop --quiet --retry=TERM/30/KILL/5 \
            --pidfile /run/orthanc.pid --exec /usr/sbin/Orthanc
        "${sudo[@]}" rm -f /run/orthanc.pid
    fi
fi
