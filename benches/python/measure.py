"""Runs a command and writes its wall time, peak memory (maximum resident set of the child,
from getrusage(RUSAGE_CHILDREN): this wrapper has no other child) and processor time (user and
system) as JSON to the file named by the first argument. The command's output passes through;
its exit status is this one's.

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
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
peak_kib = usage.ru_maxrss  # KiB on Linux
cpu = usage.ru_utime + usage.ru_stime
with open(sys.argv[1], "w") as out:
    json.dump({"wall": wall, "peak_kib": peak_kib, "cpu": cpu, "status": status}, out)
sys.exit(status)
