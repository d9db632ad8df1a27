#!/usr/bin/env python3
"""Regenerates dicomweb-core/tests/golden/: DICOM files from pydicom's wheel and what dcmtk and
Orthanc make of them.

For each chosen file it writes, next to a copy of the file itself (<name>.dcm):
  <name>.dcmtk.json    dcm2json <file>                      (dcmtk, DICOM JSON)
  <name>.dcmtk.xml     dcm2xml -nat +Eb <file>              (dcmtk, Native DICOM Model)
  <name>.orthanc.json  Orthanc's WADO-RS metadata as application/dicom+json
  <name>.orthanc.xml   the one part of Orthanc's WADO-RS metadata as
                       multipart/related; type="application/dicom+xml"
A tool that cannot convert a file (dcmtk refuses compressed pixel data in JSON, and character
sets its iconv lacks) leaves that output out; the script says so.

Needs: python3, pip (or PYDICOM_WHEEL pointing at pydicom-3.0.2-py3-none-any.whl), dcmtk,
orthanc and orthanc-dicomweb (`apt-get install -y dcmtk orthanc orthanc-dicomweb`).
Run from anywhere: python3 scripts/make-golden.py [NAME...]
With names (e.g. image_dfl), only those files' outputs are made again and the others are left
as they are (Orthanc's BulkDataURIs name the port of the Orthanc that made them, so a full run
changes every *.orthanc.* file).
"""

import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile

PYDICOM = "pydicom==3.0.2"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "dicomweb-core", "tests", "golden")
PLUGIN = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"

# Small, varied files: CT and MR (little and big endian), RT with nested sequences, structured
# reports, private sequences, compressed pixel data, a deflated data set (Deflated Explicit VR
# Little Endian), and character sets (UTF-8 with
# ideographic and phonetic name groups, Cyrillic, Korean ISO 2022, Arabic). Not chrSQEncoding:
# dcm2json writes its item-level GB18030 names as raw bytes, which is not UTF-8 and so not JSON.
FILES = [
    "test_files/CT_small.dcm",
    "test_files/MR_small.dcm",
    "test_files/MR_small_bigendian.dcm",
    "test_files/rtplan.dcm",
    "test_files/rtdose_1frame.dcm",
    "test_files/test-SR.dcm",
    "test_files/reportsi.dcm",
    "test_files/priv_SQ.dcm",
    "test_files/nested_priv_SQ.dcm",
    "test_files/JPEG2000.dcm",
    "test_files/image_dfl.dcm",
    "charset_files/chrH31.dcm",
    "charset_files/chrX1.dcm",
    "charset_files/chrX2.dcm",
    "charset_files/chrRuss.dcm",
    "charset_files/chrI2.dcm",
    "charset_files/chrArab.dcm",
    "charset_files/chrKoreanMulti.dcm",
]


def fetch_wheel(tmp):
    wheel = os.environ.get("PYDICOM_WHEEL")
    if wheel:
        return wheel
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", tmp, PYDICOM],
        check=True,
    )
    return glob.glob(os.path.join(tmp, "pydicom-*.whl"))[0]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(base, method, path, body=None, headers=None):
    request = urllib.request.Request(base + path, data=body, method=method, headers=headers or {})
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.headers.get("Content-Type", ""), response.read()


def start_orthanc(tmp):
    port = free_port()
    storage = os.path.join(tmp, "orthanc-storage")
    config = {
        "Name": "golden",
        "StorageDirectory": storage,
        "IndexDirectory": storage,
        "HttpPort": port,
        "DicomPort": free_port(),
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "Plugins": [PLUGIN],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
    }
    path = os.path.join(tmp, "orthanc.json")
    with open(path, "w") as f:
        json.dump(config, f)
    log = open(os.path.join(tmp, "orthanc.log"), "w")
    binary = shutil.which("Orthanc") or "/usr/sbin/Orthanc"
    process = subprocess.Popen([binary, path], stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            http(base, "GET", "/system")
            return process, base
        except OSError:
            time.sleep(0.1)
    process.kill()
    sys.exit("Orthanc did not start; see " + log.name)


def multipart_parts(content_type, body):
    boundary = None
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.lower() == "boundary":
            boundary = value.strip('"')
    if boundary is None:
        raise ValueError("no boundary in " + content_type)
    parts = []
    for chunk in body.split(b"--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, part = chunk.partition(b"\r\n\r\n")
        parts.append(part[:-2] if part.endswith(b"\r\n") else part)
    return parts


def run_tool(args, out_path, name):
    result = subprocess.run(args, capture_output=True)
    if result.returncode != 0 or not result.stdout:
        message = result.stderr.decode(errors="replace").strip().splitlines()
        print(f"  {name}: {args[0]} refused it ({message[-1] if message else 'no output'})")
        return
    with open(out_path, "wb") as f:
        f.write(result.stdout)


def main():
    only = set(sys.argv[1:])
    names = {os.path.splitext(os.path.basename(f))[0] for f in FILES}
    unknown = only - names
    if unknown:
        sys.exit(f"not among FILES: {', '.join(sorted(unknown))}")
    for tool in ("dcm2json", "dcm2xml"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found: apt-get install -y dcmtk")
    if not os.path.exists(PLUGIN):
        sys.exit("Orthanc's DICOMweb plugin not found: apt-get install -y orthanc orthanc-dicomweb")
    with tempfile.TemporaryDirectory() as tmp:
        wheel = fetch_wheel(tmp)
        with zipfile.ZipFile(wheel) as z:
            z.extractall(os.path.join(tmp, "wheel"))
        data = os.path.join(tmp, "wheel", "pydicom", "data")
        os.makedirs(OUT, exist_ok=True)
        for old in glob.glob(os.path.join(OUT, "*.*")):
            name = os.path.basename(old).split(".")[0]
            if not old.endswith("README.md") and (not only or name in only):
                os.remove(old)
        process, base = start_orthanc(tmp)
        try:
            for relative in FILES:
                source = os.path.join(data, relative)
                name = os.path.splitext(os.path.basename(relative))[0]
                if only and name not in only:
                    continue
                target = os.path.join(OUT, name)
                print(name)
                shutil.copyfile(source, target + ".dcm")
                run_tool(["dcm2json", source], target + ".dcmtk.json", name)
                run_tool(["dcm2xml", "-nat", "+Eb", source], target + ".dcmtk.xml", name)
                with open(source, "rb") as f:
                    try:
                        _, answer = http(
                            base, "POST", "/instances", f.read(), {"Content-Type": "application/dicom"}
                        )
                    except urllib.error.HTTPError as e:
                        print(f"  {name}: Orthanc refused it ({e.code} {e.reason})")
                        continue
                orthanc_id = json.loads(answer)["ID"]
                _, tags = http(base, "GET", f"/instances/{orthanc_id}/simplified-tags")
                tags = json.loads(tags)
                path = "/dicom-web/studies/{}/series/{}/instances/{}/metadata".format(
                    tags["StudyInstanceUID"], tags["SeriesInstanceUID"], tags["SOPInstanceUID"]
                )
                _, metadata = http(base, "GET", path, headers={"Accept": "application/dicom+json"})
                with open(target + ".orthanc.json", "wb") as f:
                    f.write(metadata)
                accept = 'multipart/related; type="application/dicom+xml"'
                content_type, body = http(base, "GET", path, headers={"Accept": accept})
                parts = multipart_parts(content_type, body)
                if len(parts) != 1:
                    sys.exit(f"{name}: expected one XML part from Orthanc, found {len(parts)}")
                with open(target + ".orthanc.xml", "wb") as f:
                    f.write(parts[0])
                # Files that share a SOP Instance UID (MR_small and MR_small_bigendian) must not
                # meet in Orthanc, which would keep the first.
                http(base, "DELETE", f"/instances/{orthanc_id}")
        finally:
            process.kill()
            process.wait()


if __name__ == "__main__":
    main()
