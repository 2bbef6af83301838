#!/usr/bin/env bash
# scripts/tools/bench-runs.sh — time a payroll run from `POST .../calculate` to CALCULATED.
#
# Seeds BENCH_EMPLOYEES (default 10000) hourly, tipped California employees on one biweekly
# schedule, each with a compensation, a federal and state W-4 and two weeks of time entries (10
# shifts with cash and charged tips), straight into a fresh database (seeding is not timed).
# Then, against `payroll serve`:
#   1. in-process queue (no QUEUE_URL): create a run, calculate, poll GET until calculated;
#   2. Redis Streams: void that run, create a new one, `payroll serve` with QUEUE_URL and two
#      `payroll worker` processes (--concurrency 1 each), calculate, poll;
#   3. SQS, when BENCH_SQS_ENDPOINT is set (e.g. http://127.0.0.1:5055, moto_server): the same
#      with QUEUE_URL=$BENCH_SQS_ENDPOINT/123456789012/<fresh queue>.
# Environment: BENCH_EMPLOYEES, BENCH_DATABASE_URL (default .../payroll_bench_runs), BENCH_PORT,
# REDIS_URL (default redis://127.0.0.1:6379), PAYROLL_RUN_CHUNK_SIZE (default 500),
# BENCH_SQS_ENDPOINT (unset: no SQS run), CARGO_TARGET_DIR (where the release build goes),
# BENCH_PAYROLL_BIN (use this release binary instead of building one).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

n="${BENCH_EMPLOYEES:-10000}"
db="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/payroll_bench_runs}"
port="${BENCH_PORT:-18081}"
redis="${REDIS_URL:-redis://127.0.0.1:6379}"
command -v psql >/dev/null 2>&1 || { echo "bench runs: psql is needed" >&2; exit 2; }
command -v curl >/dev/null 2>&1 || { echo "bench runs: curl is needed" >&2; exit 2; }

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
if [[ -n "${BENCH_PAYROLL_BIN:-}" ]]; then
    payroll="$BENCH_PAYROLL_BIN" # a release binary built before (the tree may have moved on)
else
    cargo build --release -p payroll >&2
    payroll="$CARGO_TARGET_DIR/release/payroll"
fi

admin="${db%/*}/postgres"
name="${db##*/}"
psql "$admin" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null
psql "$admin" -qc "CREATE DATABASE $name" >/dev/null

export DATABASE_URL="$db"
export PAYROLL_JWT_SECRET="bench-secret-bench-secret-bench-secret-00"
export PAYROLL_DATA_KEY="$(head -c 32 /dev/urandom | base64 | tr -d '\n')"
export RUST_LOG="${RUST_LOG:-warn}"
export PORT="$port"
"$payroll" migrate >&2
tenant=$("$payroll" tenant create --name "Bench Bistro")
token=$("$payroll" token --tenant "$tenant" --role payroll_admin --ttl 3600)

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

t0=$(now)
psql "$db" -v ON_ERROR_STOP=1 -q <<SQL
UPDATE company_settings SET workweek_start = 'monday',
    sui = '{"CA": {"rate": "0.034", "wage_base": "7000.00"}}', futa_credit_reduction = '{"CA": "0.009"}'
  WHERE tenant_id = '$tenant';
INSERT INTO locations (tenant_id, id, name, state, locality)
  VALUES ('$tenant', '00000000-0000-0000-0000-00000000000a', 'SF', 'CA', 'San Francisco');
INSERT INTO pay_schedules (tenant_id, id, name, frequency, first_period_start, pay_date_offset_days)
  VALUES ('$tenant', '00000000-0000-0000-0000-00000000000b', 'Biweekly', 'biweekly', '2025-01-06', 5);
CREATE TEMP TABLE ids AS SELECT i, gen_random_uuid() AS id FROM generate_series(1, $n) AS i;
INSERT INTO employees (tenant_id, id, first_name, last_name, hire_date, location_id, pay_schedule_id,
    pay_type, tipped, resident_state, job_rates)
  SELECT '$tenant', id, 'Emp', 'No' || i, '2024-01-01', '00000000-0000-0000-0000-00000000000a',
         '00000000-0000-0000-0000-00000000000b', 'hourly', true, 'CA',
         jsonb_build_object('server', '16.50', 'host', '17.25')
    FROM ids;
INSERT INTO compensations (tenant_id, id, employee_id, effective_date, pay_type, hourly_rate)
  SELECT '$tenant', gen_random_uuid(), id, '2024-01-01', 'hourly', 16.50 + (i % 10) FROM ids;
INSERT INTO tax_profiles (tenant_id, id, employee_id, federal_w4, state_w4)
  SELECT '$tenant', gen_random_uuid(), id,
         '{"form": "2020", "filing_status": "single"}',
         '{"CA": {"filing_status": "single", "allowances": 1}}' FROM ids;
INSERT INTO time_entries (tenant_id, id, external_id, employee_id, date, hours, job, cash_tips, charged_tips)
  SELECT '$tenant', gen_random_uuid(), 'e' || i || '-' || d, id, DATE '2025-01-06' + d,
         6 + ((i + d) % 5), CASE WHEN d % 3 = 0 THEN 'host' ELSE 'server' END,
         ((i + d) % 40)::numeric, ((i * 7 + d) % 120)::numeric + 0.25
    FROM ids, (VALUES (0), (1), (2), (3), (4), (7), (8), (9), (10), (11)) AS days(d);
ANALYZE;
SQL
t1=$(now)
echo "seeded $n employees and $((n * 10)) time entries in $(secs "$t0" "$t1") s" >&2

api="http://127.0.0.1:$port/api/payroll/v1"
auth=(-H "Authorization: Bearer $token" -H "Content-Type: application/json")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

start_server() {
    "$payroll" serve >>/tmp/payroll-bench-runs-serve.log 2>&1 &
    pids+=($!)
    for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && return; sleep 0.1; done
    echo "bench runs: the server did not start (see /tmp/payroll-bench-runs-serve.log)" >&2
    exit 1
}

field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

time_run() {
    local label="$1" run t0 t1 status body
    run=$(curl -fsS "${auth[@]}" -X POST "$api/payroll-runs" \
        -d '{"pay_schedule_id": "00000000-0000-0000-0000-00000000000b", "period_start": "2025-01-06"}' | field '["id"]')
    t0=$(now)
    curl -fsS "${auth[@]}" -X POST "$api/payroll-runs/$run/calculate" -d '{}' >/dev/null
    while :; do
        body=$(curl -fsS "${auth[@]}" "$api/payroll-runs/$run")
        status=$(echo "$body" | field '["status"]')
        [[ "$status" != calculating ]] && break
        sleep 0.05
    done
    t1=$(now)
    echo "== $label: $n employees, calculate -> $status in $(secs "$t0" "$t1") s"
    echo "$body" | python3 -c "import json,sys; r=json.load(sys.stdin); print('   progress', r['progress'], 'totals', r['totals'])"
    RUN="$run"
}

: >/tmp/payroll-bench-runs-serve.log
unset QUEUE_URL
start_server
time_run "in-process queue (payroll serve)"
curl -fsS "${auth[@]}" -X POST "$api/payroll-runs/$RUN/void" -d '{}' >/dev/null
cleanup
pids=()

start_workers() {
    for w in 1 2; do
        "$payroll" worker --concurrency 1 >>/tmp/payroll-bench-runs-worker-$w.log 2>&1 &
        pids+=($!)
    done
}

# A stream of our own, so a concurrent bench or a running service is not disturbed.
export QUEUE_URL="$redis"
export QUEUE_STREAM="payroll:bench-run-chunks:$$"
start_server
start_workers
time_run "Redis Streams, two payroll worker processes"
curl -fsS "${auth[@]}" -X POST "$api/payroll-runs/$RUN/void" -d '{}' >/dev/null
# Stop the workers first: a worker finding its stream gone re-creates it.
cleanup
pids=()
redis-cli -u "$redis" DEL "$QUEUE_STREAM" >/dev/null 2>&1 || true

if [[ -n "${BENCH_SQS_ENDPOINT:-}" ]]; then
    # An emulator endpoint: the queue is created on first use, test credentials.
    export QUEUE_URL="${BENCH_SQS_ENDPOINT%/}/123456789012/payroll-bench-$$"
    unset QUEUE_STREAM
    start_server
    start_workers
    time_run "SQS ($BENCH_SQS_ENDPOINT), two payroll worker processes"
fi
