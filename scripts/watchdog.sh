#!/usr/bin/env bash
# Runs the test command with a deadline: `scripts/watchdog.sh SECONDS COMMAND...`.
#
# Its output passes through line by line (stdbuf: a test binary writing to a pipe otherwise holds its lines in a buffer
# that a stopped run never prints). When the deadline passes, it names every test that started and never finished (from
# Swift Testing's "◇ Test … started." and "✔/✘ Test … after" lines), prints where each thread of the test process
# stands in the project's code (gdb, when installed), stops the command and exits 124: a hung test fails the run in
# minutes, with its name, instead of eating CI's whole budget with nothing to go on.
#
# A run whose summary line has been printed but whose process does not exit within a minute is reported the same way
# and then ends with the summary's verdict: every test has spoken by then.
set -uo pipefail

limit=$1
shift
log=$(mktemp /tmp/vitrina-test-output.XXXXXX)
trap 'rm -f "$log" "$log.bt"' EXIT

buffering=()
if command -v stdbuf >/dev/null 2>&1; then buffering=(stdbuf -oL -eL); fi

set -m
("${buffering[@]}" "$@" 2>&1 | tee "$log") &
job=$!
set +m

unfinished() {
  python3 - "$log" <<'PY'
import re, sys
started, finished = [], set()
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    m = re.search(r"◇ Test (.+?) started\.", line)
    if m and m.group(1) != "run":
        started.append(m.group(1))
        continue
    m = re.search(r"[✔✘] Test (.+?) (?:passed|failed|skipped|recorded)", line)
    if m:
        finished.add(m.group(1))
left = [name for name in started if name not in finished]
for name in left or ["(none: every test that started has finished)"]:
    print(f"  {name}")
PY
}

# Where the test process's threads are, in the project's own code (frames under Sources/ and Tests/).
backtraces() {
  command -v gdb >/dev/null 2>&1 || { echo "  (gdb is not installed: no backtraces)"; return; }
  local pids
  pids=$(pgrep -f 'PackageTests.xctest' || true)
  for pid in $pids; do
    timeout 60 gdb -p "$pid" -batch -ex "thread apply all bt 40" >"$log.bt" 2>&1 || true
    echo "  process $pid:"
    local demangle=(cat)
    if command -v swift-demangle >/dev/null 2>&1; then demangle=(swift-demangle --simplified); fi
    "${demangle[@]}" <"$log.bt" | awk '
      /^Thread / { thread = $0; shown = 0; next }
      / at [^ ]*\/(Sources|Tests)\// && !/\/\.build\// {
        if (!shown) { print "    " substr(thread, 1, 60); shown = 1 }
        line = $0; sub(/^#[0-9]+ +0x[0-9a-f]+ in /, "", line)
        print "      " substr(line, 1, 220)
      }'
  done
}

stop() {
  kill -TERM -- "-$job" 2>/dev/null || kill -TERM "$job" 2>/dev/null
  sleep 5
  kill -KILL -- "-$job" 2>/dev/null || true
}

waited=0
lingered=0
while kill -0 "$job" 2>/dev/null; do
  if grep -q "Test run with .* tests" "$log" 2>/dev/null; then
    lingered=$((lingered + 1))
    if [ "$lingered" -ge 60 ]; then
      {
        echo
        echo "The test run printed its summary but has not exited for 60 s. Its threads in the project's code:"
        backtraces
      } >&2
      stop
      if grep -q "Test run with .* tests .* passed" "$log" && ! grep -q "with [0-9]* issue" "$log"; then exit 0; fi
      exit 1
    fi
  elif [ "$waited" -ge "$limit" ]; then
    {
      echo
      echo "The tests did not finish within $limit s. Where the test process's threads are:"
      backtraces
      echo "Started and never finished:"
      unfinished
    } >&2
    stop
    exit 124
  fi
  sleep 1
  waited=$((waited + 1))
done
wait "$job"
