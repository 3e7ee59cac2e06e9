#!/usr/bin/env bash
# Issue 32's goals at real sizes, each against its baseline in the same run (PostgreSQL 15, whose WAL the
# Debian pg_waldump 15 reads):
#  - zenith log -n 100 on a branch with about 1 GB of WAL (pgbench -i, then 20,000 small transactions):
#    the time to its first line, and the whole log against pg_waldump over the same segment files;
#  - zenith diff --data of pgbench_accounts (about 0.8 GB at scale 64) on two branches, 1% of rows changed
#    on one, against one SELECT of both tables in full ordered by key (both at once, and one after the
#    other); the daemon's peak memory before and after;
#  - the same for a table the WAL shows unchanged on both sides (pgbench_branches);
#  - zenith bisect over 10,000 transactions: its probes, and its time against one read-only view's first query.
# Usage: bench/history.sh   (SCALE=N for another pgbench scale; needs psql, pgbench, pg_waldump 15)
. "$(dirname "$0")/lib.sh"
need psql pgbench python3
WALDUMP=${PG_WALDUMP:-/usr/lib/postgresql/15/bin/pg_waldump}
[ -x "$WALDUMP" ] || { echo "bench: needs PostgreSQL 15's pg_waldump (apt-get install postgresql-15), or PG_WALDUMP=path" >&2; exit 1; }
SCALE=${SCALE:-64}

start_repo --pg-version 15 --idle-timeout never
proxy_psql main "SELECT 1" >/dev/null
port=$(compute_port main)
conn() { echo "host=127.0.0.1 port=$1 dbname=postgres user=$(whoami)"; }
echo "loading pgbench at scale $SCALE ..."
pgbench -h 127.0.0.1 -p "$port" -U "$(whoami)" -i -q -s "$SCALE" postgres >/dev/null 2>&1
pgbench -h 127.0.0.1 -p "$port" -U "$(whoami)" -n -c 1 -t 20000 postgres >/dev/null 2>&1
psql "$(conn "$port")" -qc "CHECKPOINT" >/dev/null
wal_mb=$(psql "$(conn "$port")" -Atc "SELECT ((pg_current_wal_insert_lsn() - '0/0') / 1048576)::int")

# 1. zenith log: the first line of -n 100, then the whole log against pg_waldump over the same files
firsts=()
for i in 1 2 3; do
  t=$(now_ns)
  z log main -n 100 | head -1 >/dev/null
  firsts+=("$(ms_since "$t")")
done
t=$(now_ns); z log main -n 100 >/dev/null; hundred_ms=$(ms_since "$t")
# the whole log from a stopped branch, whose WAL is all in the repository: the same files pg_waldump reads
z pg stop main >/dev/null
z log main -n 1 >/dev/null  # names need the branch's catalog: its compute starts once, not part of reading
logs=(); apis=()
for i in 1 2 3; do
  t=$(now_ns); transactions=$(z log main --json | wc -l); logs+=("$(ms_since "$t")")
  # the daemon's part alone: the same answer read with curl, no JVM starting for the command line
  t=$(now_ns); curl -s "${API_AUTH[@]}" -X POST -H 'Content-Type: application/json' -d '{"branch":"main"}' \
    "http://127.0.0.1:$API_PORT/v1/log" >/dev/null; apis+=("$(ms_since "$t")")
done
log_ms=$(median "${logs[@]}"); api_ms=$(median "${apis[@]}")
timeline=$(z branch --json | python3 -c "import json,sys; print(next(b['timelineId'] for b in json.load(sys.stdin) if b['name']=='main'))")
segs=$(mktemp -d "$BENCH_TMP/segs.XXXXXX")
for f in "$REPO/timelines/$timeline/wal/"0000000* "$REPO/timelines/$timeline/wal-partial/"0000000*; do
  [ -e "$f" ] && [ ! -e "$segs/$(basename "$f")" ] && ln "$f" "$segs/$(basename "$f")"
done
# pg_waldump reads one Postgres timeline's files at a time (each start of main promotes to a new one): every
# timeline's range of whole segments, one after the other
dumps=()
for i in 1 2; do
  t=$(now_ns)
  for tli in $(ls "$segs" | grep -E '^[0-9A-F]{24}$' | cut -c1-8 | sort -u); do
    files=$(ls "$segs" | grep -E "^${tli}[0-9A-F]{16}\$")
    "$WALDUMP" -p "$segs" "$(echo "$files" | head -1)" "$(echo "$files" | tail -1)" >/dev/null 2>&1 || true  # ends with an error where valid WAL ends
  done
  dumps+=("$(ms_since "$t")")
done
dump_ms=$(median "${dumps[@]}")
wal_read_mb=$(du -sm "$segs" | cut -f1)
proxy_psql main "SELECT 1" >/dev/null
port=$(compute_port main)

# 2. zenith diff --data: 1% of pgbench_accounts changed on a branch
z branch feature main >/dev/null
proxy_psql feature "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid % 100 = 0" >/dev/null
fport=$(compute_port feature)
table_mb=$(proxy_psql main "SELECT pg_table_size('pgbench_accounts') / 1048576")
select_one() { psql "$(conn "$1")" -Atqc "COPY (SELECT * FROM pgbench_accounts ORDER BY aid) TO STDOUT" >/dev/null; }
daemon_pid=$(cat "$REPO/pageserver.pid")
hwm() { awk '/VmHWM/ {print int($2/1024)}' "/proc/$daemon_pid/status"; }
hwm_before=$(hwm)
both=(); seq_=(); diffs=()
for i in 1 2 3; do
  t=$(now_ns); select_one "$port" & select_one "$fport" & wait; both+=("$(ms_since "$t")")
  t=$(now_ns); select_one "$port"; select_one "$fport"; seq_+=("$(ms_since "$t")")
  t=$(now_ns); out=$(z diff main feature --data pgbench_accounts --limit 10 --json || true); diffs+=("$(ms_since "$t")")
done
changed=$(echo "$out" | python3 -c "import json,sys; d=json.load(sys.stdin)['data']['tables'][0]; print(d['changed'], d['added'], d['removed'])")
hwm_after=$(hwm)
both_ms=$(median "${both[@]}"); seq_ms=$(median "${seq_[@]}"); diff_ms=$(median "${diffs[@]}")
unchanged=()
for i in 1 2 3; do
  t=$(now_ns); z diff main feature --data pgbench_branches >/dev/null || true; unchanged+=("$(ms_since "$t")")
done
unchanged_ms=$(median "${unchanged[@]}")
why=$(z diff main feature --data pgbench_branches --json | python3 -c "import json,sys; print(json.load(sys.stdin)['data']['tables'][0].get('unchanged', 'READ'))" || true)

# 3. zenith bisect over 10,000 transactions of a branch: one of them deletes the row
proxy_psql main "CREATE TABLE orders (id int PRIMARY KEY)" >/dev/null
proxy_psql main "INSERT INTO orders SELECT generate_series(1, 100)" >/dev/null
z branch shop main >/dev/null
proxy_psql shop "SELECT 1" >/dev/null
z tag good shop >/dev/null
sport=$(compute_port shop)
cat > "$BENCH_TMP/insert.sql" <<'EOF'
\set id random(1000, 100000000)
INSERT INTO orders VALUES (:id) ON CONFLICT DO NOTHING;
EOF
pgbench -h 127.0.0.1 -p "$sport" -U "$(whoami)" -n -c 1 -t 6789 -f "$BENCH_TMP/insert.sql" postgres >/dev/null 2>&1
proxy_psql shop "DELETE FROM orders WHERE id = 42" >/dev/null
pgbench -h 127.0.0.1 -p "$sport" -U "$(whoami)" -n -c 1 -t 3210 -f "$BENCH_TMP/insert.sql" postgres >/dev/null 2>&1
t=$(now_ns)
steps=$(z bisect shop --query "select count(*) from orders where id = 42" --good good --json)
bisect_ms=$(ms_since "$t")
candidates=$(echo "$steps" | python3 -c "import json,sys; print(json.loads(sys.stdin.readline())['candidates'])")
probes=$(echo "$steps" | tail -1 | python3 -c "import json,sys; d=json.load(sys.stdin); print(d['step'], d['kind'])")
views=()
for lsn in $(echo "$steps" | python3 -c "
import json,sys
print('\\n'.join(json.loads(l)['lsn'] for l in sys.stdin if json.loads(l)['kind']=='probe'))" | head -3); do
  # a fresh view at a probed point, as a probe starts one (the probes' own views are gone)
  t=$(now_ns)
  psql "host=127.0.0.1 port=$PROXY_PORT dbname=postgres user=$(whoami) options=branch=shop@$lsn" -Atqc "select count(*) from orders where id = 42" >/dev/null
  views+=("$(ms_since "$t")")
done
view_ms=$(median "${views[@]}")

append_results "Issue 32: history (bench/history.sh)" "$(cat <<EOF
pgbench scale $SCALE, main's WAL ${wal_mb} MB (LSN), $transactions transactions in its log.

| what | measured | baseline | ratio | goal |
| --- | --- | --- | --- | --- |
| \`zenith log main -n 100\`, first line | $(median "${firsts[@]}") ms (runs: ${firsts[*]}; all 100: $hundred_ms ms) | | | under 1 s |
| \`zenith log main --json\`, all $transactions transactions (the compute started once before) | $log_ms ms (${logs[*]}); the daemon's answer alone (curl): $api_ms ms (${apis[*]}) | pg_waldump over the same ${wal_read_mb} MB of segments: $dump_ms ms (${dumps[*]}) | speed $(ratio "$dump_ms" "$log_ms")x pg_waldump's; the daemon alone $(ratio "$dump_ms" "$api_ms")x | at least 0.5x |
| \`zenith diff main feature --data pgbench_accounts\` (${table_mb} MB, changed/added/removed $changed) | $diff_ms ms (${diffs[*]}) | both SELECT ... ORDER BY aid at once: $both_ms ms (${both[*]}); one after the other: $seq_ms ms | $(ratio "$diff_ms" "$both_ms")x at once, $(ratio "$diff_ms" "$seq_ms")x one after the other | at most 1.0x |
| daemon peak memory (VmHWM) | $hwm_before MB before the diffs, $hwm_after MB after | | | bounded |
| \`zenith diff main feature --data pgbench_branches\` | $unchanged_ms ms (${unchanged[*]}) | | | under 1 s ($why) |
| \`zenith bisect\` over $candidates transactions | $bisect_ms ms, probes: $probes | a read-only view's first query: $view_ms ms (${views[*]}) | $(ratio "$bisect_ms" "$view_ms")x | at most 15 probes, at most 15x |
EOF
)"
