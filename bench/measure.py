#!/usr/bin/env python3
"""Runs a command and prints one JSON line: wall seconds and peak resident memory (MiB) of the
command and its children. Usage: measure.py LABEL -- COMMAND..."""
import json
import resource
import subprocess
import sys
import time

label = sys.argv[1]
cmd = sys.argv[sys.argv.index("--") + 1 :]
start = time.monotonic()
proc = subprocess.run(cmd, stdout=subprocess.DEVNULL)
wall = time.monotonic() - start
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"label": label, "seconds": round(wall, 2), "peak_rss_mib": round(peak_kib / 1024), "exit": proc.returncode}))
sys.exit(0 if proc.returncode in (0, 3) else 1)
