#!/usr/bin/env bash
# zenith import against the tools it drives, on one source and one disk, in one run:
#   physical: zenith import of the whole cluster vs pg_basebackup -D of it (the baseline);
#   logical:  zenith import --logical vs pg_dump -Fd -j2 + pg_restore -j2 into a plain PostgreSQL (a new
#             database of the source's own server);
#   then the first query on a branch of the physically imported branch.
# The source is a PostgreSQL 15 from Debian (SOURCE_BIN to change it) filled by pgbench -i -s SCALE
# (default 64: about 1 GB), run as the postgres OS user when this runs as root.
# Usage: bench/import.sh [SCALE]   (needs psql, pgbench, pg_dump, pg_restore, pg_basebackup)
. "$(dirname "$0")/lib.sh"
need psql pgbench pg_dump pg_restore pg_basebackup
SCALE=${1:-64}
SOURCE_BIN=${SOURCE_BIN:-/usr/lib/postgresql/15/bin}
start_repo
SRC="$BENCH_TMP/source"; mkdir -p "$SRC"
as_pg=(); if [ "$(id -u)" = 0 ]; then chown postgres "$SRC"; as_pg=(runuser -u postgres --); fi
SRC_PORT=$(free_port)
stop_all() { "${as_pg[@]}" "$SOURCE_BIN/pg_ctl" -D "$SRC/data" -m immediate stop >/dev/null 2>&1 || true; stop_repo; }
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

t=$(now_ns); pg_basebackup -d "$SOURCE" -D "$BENCH_TMP/basebackup" -X stream -c fast --no-manifest; base_ms=$(ms_since "$t")
rm -rf "$BENCH_TMP/basebackup"
t=$(now_ns); z import "$SOURCE" --as physical >/dev/null; phys_ms=$(ms_since "$t")
echo "physical: pg_basebackup $base_ms ms, zenith import $phys_ms ms"

t=$(now_ns)
pg_dump -d "$SOURCE" -Fd -j2 -f "$BENCH_TMP/dump"
psql "$SOURCE" -qc "CREATE DATABASE restored"
pg_restore -j2 -d "postgresql://postgres@127.0.0.1:$SRC_PORT/restored" "$BENCH_TMP/dump"
dump_ms=$(ms_since "$t")
rm -rf "$BENCH_TMP/dump"; psql "$SOURCE" -qc "DROP DATABASE restored"
t=$(now_ns); z import "$SOURCE" --as logical --logical >/dev/null; logi_ms=$(ms_since "$t")
echo "logical: pg_dump + pg_restore $dump_ms ms, zenith import --logical $logi_ms ms"

z branch fix physical >/dev/null
t=$(now_ns)
rows=$(psql "host=127.0.0.1 port=$PROXY_PORT dbname=postgres user=$(whoami) options=branch=fix" -Atqc "SELECT count(*) FROM pgbench_accounts")
first_ms=$(ms_since "$t")
[ "$rows" = $(( SCALE * 100000 )) ] || { echo "bench: the branch has $rows accounts, not $(( SCALE * 100000 ))" >&2; exit 1; }
echo "first query on a branch of the import: $first_ms ms ($rows accounts)"

append_results "zenith import, pgbench scale $SCALE ($size), source PostgreSQL from $SOURCE_BIN" "| what | zenith | baseline | ratio (goal) |
| --- | --- | --- | --- |
| physical import | $phys_ms ms | pg_basebackup -D: $base_ms ms | $(ratio "$phys_ms" "$base_ms") (at most 1.1) |
| logical import | $logi_ms ms | pg_dump -Fd -j2 + pg_restore -j2: $dump_ms ms | $(ratio "$logi_ms" "$dump_ms") (at most 1.1) |
| first query on a branch of the physical import (count of pgbench_accounts) | $first_ms ms | | |"
