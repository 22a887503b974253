#!/usr/bin/env python3
"""Waits until http://127.0.0.1:PORT/health answers 200 while process PID lives, for at most SECONDS.

Exit 0 when it answered, 1 when the process died or the time ran out. Used by the scripts that start a local server
(the embeddings server for the tests, llama-server for `make eval-llm`).
"""
import os
import sys
import time
import urllib.request

port, pid, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]) if len(sys.argv) > 3 else 60
deadline = time.time() + seconds
while time.time() < deadline:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as reply:
            if reply.status == 200:
                sys.exit(0)
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(1)
    time.sleep(0.1)
sys.exit(1)
