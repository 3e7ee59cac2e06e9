#!/usr/bin/env bash
# zenith import against the tools it drives, on one source and one disk, in one run:
#   physical: zenith import of the whole cluster vs pg_basebackup -D of it (the baseline), then the first
#             query on the imported branch (its first start recovers the copy);
#   logical:  zenith import --logical vs pg_dump -Fd -j2 + pg_restore -j2 into a plain PostgreSQL (a new
#             database of a plain PostgreSQL of the source's version, its data on the repository's disk);
#             both, with their baselines, ROUNDS times in turn;
#   follow:   pgbench -c4 -T 20 on the source, alone and then while zenith import --follow receives its WAL:
#             the source's tps both times, and the follower's lag as the source measures it
#             (pg_stat_replication.write_lag: pg_receivewal reports what it wrote every second, and syncs at segment ends; sampled every 0.5 s: median and p99);
#   then the first query on a branch of the followed branch at -10s, and the whole table read there;
#   then the source alone once more (its tps baseline is the mean of the runs before and after).
# The source is a PostgreSQL 15 from Debian (SOURCE_BIN to change it) filled by pgbench -i -s SCALE
# (default 64: about 1 GB), run as the postgres OS user when this runs as root. As root, the repository is
# on an XFS loop file (reflink copies, as the goal for the first query assumes); BENCH_FS=own keeps /tmp's.
# Usage: bench/import.sh [SCALE]   (needs psql, pgbench, pg_dump, pg_restore, pg_basebackup)
. "$(dirname "$0")/lib.sh"
need psql pgbench pg_dump pg_restore pg_basebackup
SCALE=${1:-64}
SOURCE_BIN=${SOURCE_BIN:-/usr/lib/postgresql/15/bin}
if [ "$(id -u)" = 0 ] && [ "${BENCH_FS:-xfs}" = xfs ] && make_loop_fs xfs 16000; then
  BENCH_PARENT="$LOOP_DIR"
fi
start_repo
SRC=$(mktemp -d /tmp/zenith-bench-source.XXXXXX); chmod 755 "$SRC"
as_pg=(); if [ "$(id -u)" = 0 ]; then chown postgres "$SRC"; as_pg=(runuser -u postgres --); fi
SRC_PORT=$(free_port)
stop_all() {
  "${as_pg[@]}" "$SOURCE_BIN/pg_ctl" -D "$SRC/data" -m immediate stop >/dev/null 2>&1 || true
  [ -n "${PLAIN:-}" ] && "${as_pg[@]}" "$SOURCE_BIN/pg_ctl" -D "$PLAIN" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$SRC"; stop_repo; cleanup_loops
}
trap stop_all EXIT
"${as_pg[@]}" "$SOURCE_BIN/initdb" -D "$SRC/data" -U postgres --auth=trust --no-locale -E UTF8 >/dev/null
printf "port = %s\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\nwal_level = replica\nmax_wal_size = 4GB\n" \
  "$SRC_PORT" "$SRC" >> "$SRC/data/postgresql.conf"
"${as_pg[@]}" "$SOURCE_BIN/pg_ctl" -D "$SRC/data" -l "$SRC/log" -w start >/dev/null
SOURCE="postgresql://postgres@127.0.0.1:$SRC_PORT/postgres"
pgbench -q -i -s "$SCALE" "$SOURCE" >/dev/null 2>&1
psql "$SOURCE" -qc "CHECKPOINT"
size=$(psql "$SOURCE" -Atc "SELECT pg_size_pretty(sum(pg_database_size(oid))) FROM pg_database")
echo "source: pgbench scale $SCALE, $size"

# The logical baseline restores into a plain PostgreSQL of the source's version with its data on the
# repository's disk (as pg_basebackup -D writes there for the physical one): a fresh cluster, default settings.
PLAIN="$BENCH_TMP/plain"; PLAIN_PORT=$(free_port)
mkdir -p "$PLAIN"; [ "$(id -u)" = 0 ] && chown postgres "$PLAIN"
"${as_pg[@]}" "$SOURCE_BIN/initdb" -D "$PLAIN" -U postgres --auth=trust --no-locale -E UTF8 >/dev/null
"${as_pg[@]}" "$SOURCE_BIN/pg_ctl" -D "$PLAIN" -l "$SRC/plain.log" -w \
  -o "-p $PLAIN_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$SRC" start >/dev/null
# Each import and its baseline run in turn, ROUNDS times (default 3), and the medians are compared: on this
# kind of machine two runs of the same pg_basebackup a minute apart differ by more than the goal's margin.
ROUNDS=${ROUNDS:-3}
base=(); phys=(); phys_daemon=(); dump=(); logi=()
for round in $(seq "$ROUNDS"); do
  t=$(now_ns); pg_basebackup -d "$SOURCE" -D "$BENCH_TMP/basebackup" -X stream -c fast --no-manifest; base+=("$(ms_since "$t")")
  rm -rf "$BENCH_TMP/basebackup"
  t=$(now_ns); phys_daemon+=("$(z import "$SOURCE" --as "physical-$round" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["millis"])')")
  phys+=("$(ms_since "$t")")
  echo "physical, round $round: pg_basebackup ${base[-1]} ms, zenith import ${phys[-1]} ms (in the pageserver: ${phys_daemon[-1]} ms)"
  if [ "$round" = 1 ]; then
    # the copy recovers from its backup_label at its first start, not during the import: that start, measured
    t=$(now_ns)
    psql "host=127.0.0.1 port=$PROXY_PORT dbname=postgres user=postgres options=branch=physical-1" -Atqc "SELECT 1" >/dev/null
    phys_first_ms=$(ms_since "$t")
    echo "physical: first query on the imported branch $phys_first_ms ms"
  fi
  z branch delete "physical-$round" >/dev/null

  t=$(now_ns)
  pg_dump -d "$SOURCE" -Fd -j2 -f "$BENCH_TMP/dump"
  psql "postgresql://postgres@127.0.0.1:$PLAIN_PORT/postgres" -qc "CREATE DATABASE restored"
  pg_restore -j2 -d "postgresql://postgres@127.0.0.1:$PLAIN_PORT/restored" "$BENCH_TMP/dump"
  dump+=("$(ms_since "$t")")
  rm -rf "$BENCH_TMP/dump"; psql "postgresql://postgres@127.0.0.1:$PLAIN_PORT/postgres" -qc "DROP DATABASE restored"
  t=$(now_ns); z import "$SOURCE" --as "logical-$round" --logical >/dev/null; logi+=("$(ms_since "$t")")
  echo "logical, round $round: pg_dump + pg_restore ${dump[-1]} ms, zenith import --logical ${logi[-1]} ms"
  z branch delete "logical-$round" >/dev/null
done
base_ms=$(median "${base[@]}"); phys_ms=$(median "${phys[@]}"); phys_daemon_ms=$(median "${phys_daemon[@]}")
dump_ms=$(median "${dump[@]}"); logi_ms=$(median "${logi[@]}")

tps() { pgbench -n -c4 -j2 -T 20 "$SOURCE" 2>/dev/null | awk '/^tps/ {print int($3)}'; }
alone_tps=$(tps)
z import "$SOURCE" --as followed --follow >/dev/null
LAGS="$BENCH_TMP/lags"; : > "$LAGS"
( while true; do
    psql "$SOURCE" -Atc "SELECT coalesce(extract(epoch FROM write_lag), 0) FROM pg_stat_replication WHERE application_name = 'zenith-follow'" >> "$LAGS"
    sleep 0.5
  done ) &
sampler=$!
followed_tps=$(tps)
kill $sampler; wait $sampler 2>/dev/null || true
lag_median=$(median $(cat "$LAGS"))
lag_p99=$(sort -n "$LAGS" | awk '{a[NR]=$1} END {i=int(NR*0.99); if (i<1) i=1; print a[i]}')

z branch seconds-ago followed --at -10s >/dev/null
# the first query a user makes (its start), then the whole table read, which checks the branch's data
t=$(now_ns)
psql "host=127.0.0.1 port=$PROXY_PORT dbname=postgres user=postgres options=branch=seconds-ago" -Atqc "SELECT 1" >/dev/null
first_ms=$(ms_since "$t")
t=$(now_ns)
rows=$(psql "host=127.0.0.1 port=$PROXY_PORT dbname=postgres user=postgres options=branch=seconds-ago" -Atqc "SELECT count(*) FROM pgbench_accounts")
count_ms=$(ms_since "$t")
[ "$rows" = $(( SCALE * 100000 )) ] || { echo "bench: the branch has $rows accounts, not $(( SCALE * 100000 ))" >&2; exit 1; }
echo "first query on a branch of the followed branch at -10s: $first_ms ms; then count(*) of its $rows accounts: $count_ms ms"

# the source alone once more, after following ends: a run's order and the source's own checkpoints move its
# tps by more than following does, so the baseline is the mean of a run before and a run after
z import --stop-following followed >/dev/null
alone_after_tps=$(tps)
alone_tps=$(( (alone_tps + alone_after_tps) / 2 ))
echo "follow: tps alone $alone_tps (mean of before and after), followed $followed_tps; write lag median $lag_median s, p99 $lag_p99 s ($(wc -l < "$LAGS") samples)"

append_results "zenith import, pgbench scale $SCALE ($size), source PostgreSQL from $SOURCE_BIN" "| what | zenith | baseline | ratio (goal) |
| --- | --- | --- | --- |
| physical import, median of $ROUNDS (each: ${phys[*]}) | $phys_ms ms | pg_basebackup -D (${base[*]}): $base_ms ms | $(ratio "$phys_ms" "$base_ms") (at most 1.1) |
| physical import: the pageserver's part (its reported millis: without the CLI's start; ${phys_daemon[*]}) | $phys_daemon_ms ms | pg_basebackup -D: $base_ms ms | $(ratio "$phys_daemon_ms" "$base_ms") |
| physical import: first query on the branch (its first start recovers the copy) | $phys_first_ms ms | | |
| logical import into the source's version, median of $ROUNDS (each: ${logi[*]}) | $logi_ms ms | pg_dump -Fd -j2 + pg_restore -j2 into a plain PostgreSQL on the same disk (${dump[*]}): $dump_ms ms | $(ratio "$logi_ms" "$dump_ms") (at most 1.1) |
| follow under pgbench -c4 -T 20: the source's tps | $followed_tps | alone (mean of a run before and one after): $alone_tps | $(ratio "$followed_tps" "$alone_tps") (at least 0.95) |
| follow: write lag on the source (pg_stat_replication.write_lag), median / p99 | $lag_median s / $lag_p99 s | | (under 1 s / under 3 s) |
| first query on a branch of the followed branch at -10s (SELECT 1: its start), repository on $(df -T "$BENCH_TMP" | awk 'NR==2 {print $2}') | $first_ms ms | | (under 2 s) |
| then count(*) of its pgbench_accounts (the whole table read from the fresh copy) | $count_ms ms | | |"
