"""Runs a command and writes its wall time and peak memory (maximum resident set of the child,
from getrusage(RUSAGE_CHILDREN): this wrapper has no other child) as JSON to the file named by
the first argument. The command's output passes through; its exit status is this one's.

    python measure.py RESULT.json COMMAND [ARGS...]
"""

import json
import resource
import subprocess
import sys
import time

started = time.perf_counter()
status = subprocess.run(sys.argv[2:]).returncode
wall = time.perf_counter() - started
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
with open(sys.argv[1], "w") as out:
    json.dump({"wall": wall, "peak_kib": peak_kib, "status": status}, out)
sys.exit(status)
