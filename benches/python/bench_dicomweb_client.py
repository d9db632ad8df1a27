"""The Python side of the transfer benchmark: dicomweb-client (PyPI) doing what the `dicomweb`
program does, the way its documentation shows.

    python bench_dicomweb_client.py store URL DIR
    python bench_dicomweb_client.py retrieve URL STUDY_UID OUT_DIR

store: every file read with pydicom.dcmread, then DICOMwebClient.store_instances(datasets) in
batches of BATCH instances (one multipart request each, as the `dicomweb` program sends).
retrieve: DICOMwebClient.iter_study(study) (its streaming form: one instance in memory at a
time), each instance written with Dataset.save_as. Prints one JSON line.
"""

import json
import os
import sys

import pydicom
from dicomweb_client.api import DICOMwebClient

BATCH = int(os.environ.get("DICOMWEB_BENCH_BATCH", "32"))


def store(url, folder):
    client = DICOMwebClient(url=url)
    paths = sorted(os.path.join(folder, name) for name in os.listdir(folder))
    stored = 0
    for start in range(0, len(paths), BATCH):
        datasets = [pydicom.dcmread(path) for path in paths[start:start + BATCH]]
        reply = client.store_instances(datasets=datasets)
        stored += len(reply.get("ReferencedSOPSequence", []))
    print(json.dumps({"stored": stored}))


def retrieve(url, study, out):
    client = DICOMwebClient(url=url)
    os.makedirs(out, exist_ok=True)
    count = 0
    for dataset in client.iter_study(study):
        dataset.save_as(os.path.join(out, dataset.SOPInstanceUID + ".dcm"))
        count += 1
    print(json.dumps({"retrieved": count}))


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "store":
        store(sys.argv[2], sys.argv[3])
    elif command == "retrieve":
        retrieve(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(f"unknown command {command!r}")
