#!/usr/bin/env bash
# Memory must not grow with the length of a run. This runs the same open-model load
# (2000 requests a second, the demo scenario against the built-in sample API) for a short
# and a long hold, and compares perfgate's peak RSS; it fails if the long run's is more
# than 10% above the short one's.
#
#   .ci/bench/memory.sh [SHORT_SECONDS LONG_SECONDS]     (default 20 120)
#
# The sample API runs on CPU 0 and perfgate on CPU 1 when taskset is there. PERFGATE
# names the binary (default: perfgate on PATH). Loopback only; both runs stop by themselves.
set -euo pipefail
short=${1:-20}
long=${2:-120}
bin=${PERFGATE:-perfgate}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
pin() { if command -v taskset >/dev/null; then exec taskset -c "$1" "${@:2}"; else exec "${@:2}"; fi; }

port=18080
# The subshell execs into the server, so $! is the server itself and the trap stops it.
(pin 0 "$bin" serve-demo --addr "127.0.0.1:$port" --latency 0 --jitter 0 > "$work/server.log" 2>&1) &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/" >/dev/null 2>&1 && break; sleep 0.1; done

sed 's|\.\./\.\./thresholds/|thresholds/|' "$root/gate/demo/perfgate.yaml" > "$work/perfgate.yaml"
mkdir -p "$work/thresholds" && cp "$root/thresholds/demo.yaml" "$work/thresholds/"

rss() {
  (pin 1 /usr/bin/time -f "%M" -o "$work/rss.txt" "$bin" run -c "$work/perfgate.yaml" \
    --target "http://127.0.0.1:$port" --rate 2000/s --max-in-flight 64 --duration "${1}s" \
    --junit "" --json "$work/result-$1.json" --progress 1h > "$work/run-$1.log" 2>&1) || true
  cat "$work/rss.txt"
}
a=$(rss "$short")
b=$(rss "$long")
reqs=$(jq '.phases[0].hold.all.requests' "$work/result-$long.json")
echo "peak RSS: ${short}s ${a} KB, ${long}s ${b} KB ($reqs requests in the long hold); ratio $(echo "scale=3; $b / $a" | bc)"
if [ "$b" -gt $((a * 110 / 100)) ]; then
  echo "memory grows with duration: more than 10% between ${short}s and ${long}s"; exit 1
fi
