#!/usr/bin/env bash
# The `users` scenario (PERFORMANCE.md, "Users that think"): the seed scenario (each user
# logs in once, then lists products three times as often as it opens one, thinking 1-3 s
# between requests) at many users, measured as the peer harness measures: generator CPU
# (user+sys, GNU time) per request completed, and peak RSS, with Locust beside it on the
# same scenario at what it can hold.
#
#   .ci/bench/users.sh                       # perfgate at 10,000 users, Locust at 1,000
#   USERS="10000 18000" LOCUST_USERS=1000 BASELINE=/tmp/old-perfgate .ci/bench/users.sh
#
# nginx (one worker, on CPU 0) answers POST /auth/token with a token and every other
# path with a small JSON list; each generator runs alone on CPU 1. USERS lists
# perfgate's user counts (default 10000; this container's open-file limit, `ulimit -Hn`,
# bounds it: a user holds a connection), HOLD the hold (default 30s; the ramp, at 2,000
# users a second, and the logins are counted too), LOCUST_USERS Locust's (default 1000,
# 0: none). PERFGATE names the binary (default: built from this checkout); BASELINE
# another perfgate binary measured beside it. Raw output goes to OUT (default a
# temporary folder). Load goes to loopback only and every run stops by itself.
# Needs nginx, GNU time, jq, taskset and, for Locust, python3-locust.
set -euo pipefail
cd "$(dirname "$0")/../.."
users=${USERS:-10000} hold=${HOLD:-30s} locust_users=${LOCUST_USERS:-1000}
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"
for tool in nginx /usr/bin/time jq taskset; do
  command -v "$tool" >/dev/null || { echo "users: needs $tool" >&2; exit 2; }
done
bin=${PERFGATE:-}
if [ -z "$bin" ]; then
  go build -o "$out/perfgate" ./cmd/perfgate
  bin=$out/perfgate
fi
port=18091
cat > "$out/nginx.conf" <<EOF
worker_processes 1;
daemon off;
error_log $out/nginx-error.log;
pid $out/nginx.pid;
events { worker_connections 65536; }
worker_rlimit_nofile 65536;
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 300s;
  client_body_temp_path $out;
  server {
    listen 127.0.0.1:$port backlog=65535;
    location = /auth/token { default_type application/json; return 200 '{"access_token":"tok-0123456789abcdef"}'; }
    location / { default_type application/json; return 200 '[{"id":1,"name":"a product","price":12.5},{"id":2,"name":"another","price":3.0}]'; }
  }
}
EOF
taskset -c 0 nginx -c "$out/nginx.conf" >"$out/nginx.log" 2>&1 &
nginx=$!
trap 'kill $nginx 2>/dev/null; true' EXIT
sleep 1

# The seed scenario, as gate/demo/perfgate.yaml has it, against nginx.
cat > "$out/perfgate.yaml" <<EOF
target: http://127.0.0.1:$port
load: {users: 10, spawn_rate: 2000, duration: $hold, think: 1s..3s}
defaults: {timeout: 10s}
setup:
  - {name: login, method: POST, path: /auth/token, json: {username: testuser, password: testpass}, extract: {token: \$.access_token}}
tasks:
  - {name: /api/products, weight: 3, path: /api/products, headers: {Authorization: "Bearer {{token}}"}}
  - {name: /api/products/:id, path: /api/products/12345, headers: {Authorization: "Bearer {{token}}"}}
thresholds: [thresholds.yaml]
EOF
echo 'all: [requests >= 0]' > "$out/thresholds.yaml"

# cpu_rss FILE: "CPU-seconds RSS-KiB" from GNU time's report.
cpu_rss() {
  awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} /Maximum resident/ {r=$2} END {printf "%.2f %d\n", u+s, r}' "$1"
}

printf '%-10s %7s %10s %9s %12s %13s %9s %10s\n' tool users requests cpu_s us_per_req hold_us_per_req rss_mib kib_per_user
run_perfgate() { # name binary users
  local name=$1 b=$2 n=$3 dir=$out/$1-$3
  mkdir -p "$dir"
  taskset -c 1 /usr/bin/time -v -o "$dir/time.txt" "$b" run -c "$out/perfgate.yaml" --users "$n" \
    --json "$dir/result.json" --junit "" --progress 1h >"$dir/stdout" 2>"$dir/stderr" || true
  read -r cpu rss < <(cpu_rss "$dir/time.txt")
  jq -r --arg name "$name" --argjson cpu "$cpu" --argjson rss "$rss" --argjson n "$n" '
    .phases[0] as $p | ($p.hold.all.requests + $p.ramp.all.requests) as $req |
    "\($name) \($n) \($req) \($cpu) \($cpu * 1e6 / $req) \($p.delivery.generator_cpu * $p.delivery.hold_seconds * 1e6 / $p.hold.all.requests) \($rss / 1024) \($rss / $n)"' \
    "$dir/result.json" | awk '{printf "%-10s %7d %10d %9.2f %12.1f %13.1f %9.1f %10.1f\n", $1, $2, $3, $4, $5, $6, $7, $8}'
}
for n in $users; do
  run_perfgate perfgate "$bin" "$n"
  if [ -n "${BASELINE:-}" ]; then run_perfgate baseline "$BASELINE" "$n"; fi
done

if [ "$locust_users" -gt 0 ] && command -v locust >/dev/null; then
  dir=$out/locust-$locust_users
  mkdir -p "$dir"
  cat > "$dir/locustfile.py" <<'EOF'
from locust import HttpUser, between, task


class Seed(HttpUser):
    wait_time = between(1, 3)

    def on_start(self):
        token = self.client.post("/auth/token", json={"username": "testuser", "password": "testpass"}, name="login").json()["access_token"]
        self.client.headers["Authorization"] = "Bearer " + token

    @task(3)
    def products(self):
        self.client.get("/api/products", name="/api/products")

    @task(1)
    def product(self):
        self.client.get("/api/products/12345", name="/api/products/:id")
EOF
  secs=${hold%s}
  (cd "$dir" && taskset -c 1 /usr/bin/time -v -o time.txt locust -f locustfile.py --headless -u "$locust_users" -r 2000 \
    --run-time "$((secs + 5))s" --host "http://127.0.0.1:$port" --csv stats --only-summary >stdout 2>stderr) || true
  read -r cpu rss < <(cpu_rss "$dir/time.txt")
  req=$(awk -F, '$2 == "\"Aggregated\"" || $2 == "Aggregated" {print $3}' "$dir/stats_stats.csv" | tr -d '"')
  awk -v n="$locust_users" -v req="$req" -v cpu="$cpu" -v rss="$rss" 'BEGIN {
    printf "%-10s %7d %10d %9.2f %12.1f %13s %9.1f %10.1f\n", "locust", n, req, cpu, cpu * 1e6 / req, "-", rss / 1024, rss / n }'
fi
echo "raw output: $out"
