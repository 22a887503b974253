#!/usr/bin/env bash
# Takes desktop (1366×900) and phone (390×844) screenshots of the demo's public pages: help centres of the demo
# shops, an article, search results, error pages and the landings; then runs scripts/panel-screenshots.py, which
# signs in to the admin panels (two shops, a partner, the platform) and shoots their main screens. It does not
# start the server: run
#   vitrina serve --port PORT --load tenants.example.yml
# first. Hosts such as acme-tea.localhost resolve to 127.0.0.1 inside Chromium itself.
#
# Usage: scripts/screenshots.sh [PORT] [OUTPUT_DIR]      (defaults: 8080 and screenshots/)
# Prints the name of every file it writes. Needs Chromium (apt-get install chromium fonts-dejavu-core) and python3;
# the panel accounts' password comes from VITRINA_DEMO_PASSWORD (default demo-pass-2026).
set -euo pipefail

port="${1:-8080}"
out="${2:-screenshots}"

if ! [[ "$port" =~ ^[0-9]+$ ]]; then
  echo "usage: $0 [PORT] [OUTPUT_DIR]   (PORT must be a number, default 8080)" >&2
  exit 2
fi

browser=""
for candidate in chromium chromium-browser google-chrome google-chrome-stable; do
  if command -v "$candidate" >/dev/null 2>&1; then browser=$(command -v "$candidate"); break; fi
done
if [ -z "$browser" ]; then
  echo "Chromium not found; install it with: apt-get install -y --no-install-recommends chromium fonts-dejavu-core fonts-liberation" >&2
  exit 1
fi

if ! command -v python3 >/dev/null 2>&1; then
  echo "python3 not found (scripts/panel-screenshots.py needs it); install it with: apt-get install -y python3" >&2
  exit 1
fi

if ! curl -fsS -o /dev/null --max-time 5 -H "Host: localhost" "http://127.0.0.1:$port/" 2>/dev/null; then
  echo "Nothing answers on http://localhost:$port/ — start the server first (vitrina serve --port $port --load tenants.example.yml)." >&2
  exit 1
fi

mkdir -p "$out"
profile=$(mktemp -d /tmp/vitrina-shots-profile.XXXXXX)
trap 'rm -rf "$profile"' EXIT

# name|URL (the host selects the tenant; "доставка" is percent-encoded)
pages=(
  "help-acme-tea|http://acme-tea.localhost:$port/help"
  "article-acme-tea-delivery|http://tea.localhost:$port/help/delivery"
  "search-acme-tea-results|http://acme-tea.localhost:$port/help?q=%D0%B4%D0%BE%D1%81%D1%82%D0%B0%D0%B2%D0%BA%D0%B0"
  "search-acme-tea-empty|http://acme-tea.localhost:$port/help?q=zzzz"
  "help-trailhead-gear|http://trailhead-gear.localhost:$port/help"
  "article-trailhead-gear-sizes|http://trailhead-gear.localhost:$port/help/sizes"
  "help-volt-market|http://volt-market.localhost:$port/help"
  "help-solnyshko-kids|http://solnyshko-kids.localhost:$port/help"
  "error-503-romashka-flowers|http://romashka-flowers.localhost:$port/help"
  "error-404-acme-tea|http://acme-tea.localhost:$port/nope"
  "error-404-platform|http://unknown.localhost:$port/"
  "landing-platform|http://localhost:$port/"
  "landing-partner-northwind|http://panel.northwind.localhost:$port/"
)
sizes=("desktop|1366,900" "phone|390,844")

failed=0
for page in "${pages[@]}"; do
  name="${page%%|*}"
  url="${page#*|}"
  for size in "${sizes[@]}"; do
    label="${size%%|*}"
    window="${size#*|}"
    file="$out/$name-$label.png"
    rm -f "$file"
    "$browser" --headless=new --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
      --user-data-dir="$profile" --force-device-scale-factor=1 --window-size="$window" \
      --screenshot="$file" "$url" >/dev/null 2>&1 || true
    if [ -s "$file" ]; then
      echo "$file"
    else
      echo "failed: $file ($url)" >&2
      failed=1
    fi
  done
done

# The admin panels need a signed-in session, which --screenshot cannot give: a DevTools-driven script does it.
if ! python3 "$(dirname "$0")/panel-screenshots.py" "$port" "$out"; then
  failed=1
fi
exit "$failed"
