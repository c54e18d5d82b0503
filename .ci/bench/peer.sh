#!/bin/sh
# perfgate as a tool of the peer benchmark harness (../shared/bench/peers.sh):
#
#   ../shared/bench/peers.sh -s throughput,https,h2,latency,co,memory -t wrk,vegeta,bombardier \
#     --add-tool "perfgate=$PWD/.ci/bench/peer.sh"
#
# The harness exports URL CONC RATE DUR RUN SCEN and runs this in $RUN. It writes a
# config for the scenario (a closed loop of CONC users, or RATE arrivals a second with at
# most CONC in flight), runs `perfgate run`, and turns its JSON result into the harness's
# normalized $RUN/result.json. PERFGATE (default: perfgate on PATH) names the binary.
set -eu
bin=${PERFGATE:-perfgate}
origin=$(printf '%s\n' "$URL" | sed -E 's|^(https?://[^/]+).*|\1|')
path=$(printf '%s\n' "$URL" | sed -E 's|^https?://[^/]+||')
[ -n "$path" ] || path=/

if [ "${RATE:-0}" -gt 0 ]; then
  load="{rate: $RATE/s, duration: ${DUR}s, max_in_flight: $CONC}"
else
  load="{users: $CONC, spawn_rate: 100000, duration: ${DUR}s}"
fi
# The https and h2 scenarios' nginx has a certificate made for the run: not checked, as
# the harness asks of every tool. The protocol is what the target offers (auto).
tls=
case $origin in https://*) tls="tls: {insecure: true}" ;; esac
cat > "$RUN/perfgate.yaml" <<YAML
target: $origin
load: $load
defaults: {timeout: 10s}
$tls
tasks:
  - {name: bench, path: "$path"}
thresholds: [thresholds.yaml]
YAML
echo 'all: [requests >= 0]' > "$RUN/thresholds.yaml"

# The verdict does not matter here (a stall may make the run invalid): the numbers do.
"$bin" run -c "$RUN/perfgate.yaml" --json "$RUN/perfgate-result.json" --junit "" --progress 1h || true

# The run has one phase; the result keeps it under phases.
jq '.settings.main_phase as $main | (.phases[] | select(.name == $main)) as $p | {
  requests: ($p.hold.all.requests + $p.ramp.all.requests),
  errors: ($p.hold.all.errors + $p.ramp.all.errors),
  rps: $p.hold.all.throughput,
  mean_ms: $p.hold.all.latency_ms.mean,
  p50_ms: $p.hold.all.latency_ms.p50,
  p90_ms: $p.hold.all.latency_ms.p90,
  p99_ms: $p.hold.all.latency_ms.p99,
  p999_ms: $p.hold.all.latency_ms.p99_9,
  max_ms: $p.hold.all.latency_ms.max
}' "$RUN/perfgate-result.json" > "$RUN/result.json"
