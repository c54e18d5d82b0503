#!/usr/bin/env bash
# How big the JSON result is: for the demo (perfgate demo, a 30 s hold of three
# endpoints), and for a 5-minute hold of 20 endpoints (the demo's users and think time
# against the built-in sample API, 20 tasks of equal weight). Prints each file's size,
# gzipped too, and what its time windows take of it.
#
#   .ci/bench/result-size.sh [HOLD]        (default 5m; a shorter hold for a quick look)
#
# PERFGATE names the binary (default: perfgate on PATH). Loopback only; both runs stop by
# themselves.
set -euo pipefail
hold=${1:-5m}
bin=${PERFGATE:-perfgate}
work=$(mktemp -d)
port=18081
("$bin" serve-demo --addr "127.0.0.1:$port" > "$work/server.log" 2>&1) &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/" >/dev/null 2>&1 && break; sleep 0.1; done

size() {
  local f=$1
  local all windows
  all=$(wc -c < "$f")
  windows=$(jq -c '.windows' "$f" | wc -c)
  printf '%s: %d windows, %s KB (gzip %s KB), of which windows %s KB\n' "$2" "$(jq '.windows | length' "$f")" \
    "$((all / 1024))" "$(($(gzip -c "$f" | wc -c) / 1024))" "$((windows / 1024))"
}

(cd "$work" && "$bin" demo --junit "" --json demo.json > demo.log 2>&1) || true
size "$work/demo.json" "demo (3 endpoints, 30s hold)"

{
  cat <<YAML
target: http://127.0.0.1:$port
load: {users: 200, spawn_rate: 10, duration: $hold, think: 1s..3s}
setup:
  - name: login
    path: /auth/token
    json: {username: testuser, password: testpass}
    extract: {token: \$.access_token}
tasks:
YAML
  for i in $(seq 1 20); do
    printf '  - {name: /api/products/%d, path: /api/products/%d, headers: {Authorization: "Bearer {{token}}"}}\n' "$i" "$i"
  done
  echo 'thresholds: [t.yaml]'
} > "$work/perfgate.yaml"
echo 'all: [p99 < 1s]' > "$work/t.yaml"
"$bin" run -c "$work/perfgate.yaml" --junit "" --json "$work/twenty.json" > "$work/twenty.log" 2>&1 || true
size "$work/twenty.json" "20 endpoints, $hold hold"
