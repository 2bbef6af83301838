#!/usr/bin/env bash
# The backup benchmark behind `scripts/bench backup`: BENCH_ROWS (default 1,000,000) time entries
# (plus a tenant and 200 employees) in a fresh database, then `payroll backup` to a file:// store
# and `payroll restore` into a second fresh database, each under /usr/bin/time -v. Prints rows/s
# and peak memory (maximum resident set size) per direction and checks that the restored
# time_entries table is identical (md5 of every row).
#
# Environment: BENCH_ROWS, BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/
# payroll_bench_backup; it and <name>_restored are recreated), BENCH_BACKUP_URL (default
# file://$PWD/.dev/bench/backup-store, emptied first), BENCH_JOBS (restore connections, default 2),
# BENCH_PAYROLL (a release `payroll` binary to measure instead of building one).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

rows="${BENCH_ROWS:-1000000}"
jobs="${BENCH_JOBS:-2}"
db="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/payroll_bench_backup}"
store_dir="$PWD/.dev/bench/backup-store"
backup_url="${BENCH_BACKUP_URL:-file://$store_dir}"

command -v psql >/dev/null 2>&1 || { echo "bench backup: psql is needed" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench backup: /usr/bin/time is needed (apt-get install time)" >&2; exit 2; }

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
if [ -n "${BENCH_PAYROLL:-}" ]; then
    payroll="$BENCH_PAYROLL"
else
    cargo build --release -p payroll >&2
    payroll="$CARGO_TARGET_DIR/release/payroll"
fi

admin="${db%/*}/postgres"
name="${db##*/}"
target="${db}_restored"
for d in "$name" "${name}_restored"; do
    psql "$admin" -qc "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null
    psql "$admin" -qc "CREATE DATABASE $d" >/dev/null
done
if [[ "$backup_url" == "file://$store_dir" ]]; then rm -rf "$store_dir"; mkdir -p "$store_dir"; fi

export DATABASE_URL="$db"
export BACKUP_URL="$backup_url"
PAYROLL_BACKUP_KEY="$(head -c 32 /dev/urandom | base64 | tr -d "\n")"
export PAYROLL_BACKUP_KEY
export RUST_LOG=warn
"$payroll" migrate >&2

echo "==> seeding $rows time entries"
t0=$(date +%s.%N)
psql "$db" -q -v ON_ERROR_STOP=1 <<SQL
INSERT INTO tenants (id, name) VALUES ('00000000-0000-4000-8000-000000000001', 'Bench Bistro');
INSERT INTO employees (tenant_id, id, first_name, last_name, hire_date, pay_type, tipped)
SELECT '00000000-0000-4000-8000-000000000001', md5('emp' || i)::uuid, 'First' || i, 'Last' || i,
       date '2020-01-01' + i, 'hourly', i % 3 = 0
  FROM generate_series(1, 200) i;
INSERT INTO time_entries (tenant_id, id, external_id, employee_id, date, hours, clock_in, clock_out,
                          job, rate, cash_tips, charged_tips)
SELECT '00000000-0000-4000-8000-000000000001', md5('te' || i)::uuid, 'pos-' || i,
       md5('emp' || (i % 200 + 1))::uuid, date '2022-01-01' + (i / 200) % 1400, (i % 33) * 0.25,
       CASE WHEN i % 2 = 0 THEN timestamptz '2022-01-01 16:00Z' + ((i / 200) % 1400) * interval '1 day' END,
       CASE WHEN i % 2 = 0 THEN timestamptz '2022-01-01 16:00Z' + ((i / 200) % 1400) * interval '1 day'
                                + (i % 33 + 1) * interval '15 minutes' END,
       CASE WHEN i % 4 = 0 THEN 'bartender' ELSE 'server' END, CASE WHEN i % 5 = 0 THEN 18.25 END,
       (i % 50) * 1.10, (i % 70) * 2.35
  FROM generate_series(1, $rows) i;
VACUUM ANALYZE;
SQL
echo "seeded in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"

measure() { # label, command...: runs it under /usr/bin/time -v, prints its output and the figures
    local label="$1"
    shift
    local log=".dev/bench/$label.time"
    /usr/bin/time -v -o "$log" "$@"
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$log")
    rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$log")
    echo "$label: wall ${wall} s, peak RSS ${rss} MB"
    printf -v "${label}_wall" '%s' "$wall"
    printf -v "${label}_rss" '%s' "$rss"
}
# Set by measure (backup, restore).
backup_wall="" backup_rss="" restore_wall="" restore_rss=""
mkdir -p .dev/bench
total=$((rows + 201))

echo
echo "==> payroll backup ($BACKUP_URL)"
measure backup "$payroll" backup
echo
echo "==> payroll restore --database-url $target"
measure restore "$payroll" restore --database-url "$target" --jobs "$jobs"

echo
echo "==> verifying time_entries"
digest="SELECT count(*) || ' ' || md5(string_agg(t::text, '' ORDER BY t::text)) FROM time_entries t"
a=$(psql "$db" -Atc "$digest")
b=$(psql "$target" -Atc "$digest")
[ "$a" = "$b" ] || { echo "MISMATCH: source $a, restored $b" >&2; exit 1; }
echo "identical: $a"

stored=$(du -sh "$store_dir" 2>/dev/null | cut -f1 || echo "?")
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }
echo
echo "machine: $(nproc) cores; $total rows ($rows time entries); stored ${stored}"
echo "backup:  ${backup_wall} s = $(rate "$total" "$backup_wall") rows/s, peak RSS ${backup_rss} MB"
echo "restore: ${restore_wall} s = $(rate "$total" "$restore_wall") rows/s, peak RSS ${restore_rss} MB (includes migrations, verification, ANALYZE)"

for d in "$name" "${name}_restored"; do
    psql "$admin" -qc "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null
done
