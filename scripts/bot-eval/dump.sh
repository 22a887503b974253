#!/usr/bin/env bash
# Runs every question set of Tests/Fixtures/bot-eval through `vitrina bot eval --json --features`, with the embeddings
# and with lexical retrieval alone, into DIR (sem.<set>.json, lex.<set>.json), and prints the totals.
#
#   scripts/bot-eval/dump.sh DIR [--set name=value ...]
#
# Uses .build/debug/vitrina and the installation in $VITRINA_DATA_DIR (load tenants.example.yml into it first:
# `vitrina tenants apply tenants.example.yml`); the embeddings are $VITRINA_EMBEDDINGS_URL's, or the shared local server.
# scripts/bot-eval/fit.py DIR fits the confidence models on the dumps.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: dump.sh DIR [--set name=value ...]}
shift
mkdir -p "$out"
vitrina="$here/.build/debug/vitrina"
for set in "$here"/Tests/Fixtures/bot-eval/*.yml; do
  name=$(basename "$set" .yml)
  shop=${name%%.*}
  "$vitrina" bot eval "$shop" "$set" --json --features "$@" >"$out/sem.$name.json" 2>>"$out/log"
  VITRINA_EMBEDDINGS_URL=off "$vitrina" bot eval "$shop" "$set" --json --features "$@" >"$out/lex.$name.json" 2>>"$out/log"
done
python3 - "$out" <<'PY'
import glob, json, sys
for kind, label in (("sem", "with vectors"), ("lex", "lexical")):
    for split in ("tune", "holdout"):
        t = [0] * 6
        for path in glob.glob(f"{sys.argv[1]}/{kind}.*.{split}.json"):
            report = json.load(open(path))
            for i, key in enumerate(["right_first", "answerable", "kept_out", "off_topic", "handed_off", "handoff_requests"]):
                t[i] += report[key]
        print(f"{label:12} {split:7} right first {t[0]}/{t[1]} ({100 * t[0] / max(1, t[1]):.1f} %), "
              f"kept out {t[2]}/{t[3]} ({100 * t[2] / max(1, t[3]):.1f} %), handed off {t[4]}/{t[5]}")
PY
