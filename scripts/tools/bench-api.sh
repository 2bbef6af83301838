#!/usr/bin/env bash
# The HTTP API load test behind `scripts/bench api`: wrk against `payroll serve` (release) on
# loopback, for POST /paychecks/calculate (every request a different paycheck, so no cache hit)
# and GET /employees/{id}. Prints requests/s and the latency percentiles wrk reports.
#
# Environment: BENCH_SECONDS (default 20), BENCH_CONNECTIONS (default 32), BENCH_THREADS (2),
# BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/payroll_bench, recreated).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

secs="${BENCH_SECONDS:-20}"
conns="${BENCH_CONNECTIONS:-32}"
threads="${BENCH_THREADS:-2}"
db="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/payroll_bench}"
port="${BENCH_PORT:-18080}"

command -v wrk >/dev/null 2>&1 || {
    echo "bench api: wrk is not installed (Debian/Ubuntu: apt-get install wrk)" >&2
    exit 2
}
command -v psql >/dev/null 2>&1 || { echo "bench api: psql is needed to create the bench database" >&2; exit 2; }

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release -p payroll >&2
payroll="$CARGO_TARGET_DIR/release/payroll"

admin="${db%/*}/postgres"
name="${db##*/}"
psql "$admin" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null
psql "$admin" -qc "CREATE DATABASE $name" >/dev/null

export DATABASE_URL="$db"
export PAYROLL_JWT_SECRET="bench-secret-bench-secret-bench-secret-00"
export PAYROLL_DATA_KEY="$(head -c 32 /dev/urandom | base64 | tr -d '\n')"
export PAYROLL_PREVIEW_RATE_LIMIT=1000000
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
export RUST_LOG=warn
export PORT="$port"
"$payroll" migrate >&2
tenant=$("$payroll" demo 2>/tmp/payroll-bench-demo.log) || { cat /tmp/payroll-bench-demo.log >&2; exit 1; }
token=$("$payroll" token --tenant "$tenant" --role payroll_admin --ttl 3600)
employee=$(psql "$db" -Atc "SELECT id FROM employees WHERE tenant_id = '$tenant' ORDER BY last_name LIMIT 1")

"$payroll" serve >/tmp/payroll-bench-serve.log 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.1; done

lua=$(mktemp --suffix .lua)
cat >"$lua" <<LUA
-- A different salary on every request: the preview cache never answers, the engine does.
local n = 0
request = function()
  n = n + 1
  local cents = 150000 + (n % 500000)
  local body = string.format('{"pay_date":"2026-03-13","pay_frequency":"biweekly","work_state":"CA",'
    .. '"employee":{"flsa_exempt":true},"earnings":[{"type":"salary","amount":"%d.%02d"}],'
    .. '"federal_w4":{"form":"2020","filing_status":"single"},"state_w4":{"CA":{"filing_status":"single","allowances":1}},'
    .. '"deductions":[{"type":"401k","percent":"5"}],"ytd":{"gross":"20000.00","social_security_wages":"20000.00","medicare_wages":"20000.00"}}',
    math.floor(cents / 100), cents % 100)
  return wrk.format("POST", "/api/payroll/v1/paychecks/calculate",
    {["Authorization"] = "Bearer $token", ["Content-Type"] = "application/json"}, body)
end
LUA

echo "== POST /api/payroll/v1/paychecks/calculate  (wrk -t$threads -c$conns -d${secs}s, loopback, 2 cores shared with the server)"
wrk -t"$threads" -c"$conns" -d"${secs}s" --latency -s "$lua" "http://127.0.0.1:$port" | sed -n '/Latency Distribution/,/Transfer/p;/Requests\/sec/p;/Non-2xx/p'
echo
echo "== GET /api/payroll/v1/employees/{id}"
wrk -t"$threads" -c"$conns" -d"${secs}s" --latency -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$port/api/payroll/v1/employees/$employee" | sed -n '/Latency Distribution/,/Transfer/p;/Requests\/sec/p;/Non-2xx/p'
rm -f "$lua"
