#!/usr/bin/env bash
# Masked and schema-only branches against doing the same by hand on a plain PostgreSQL, in one run:
#   masking:     zenith branch safe main --mask (one column of ten hashed, about 1 GB) vs the same UPDATE plus
#                VACUUM FULL on a plain PostgreSQL holding the same rows;
#   schema-only: zenith branch empty main --schema-only of a database of 200 tables (about 1 GB) vs
#                pg_dump --schema-only piped into psql, into a fresh database of a plain PostgreSQL.
# Both sides run Debian's PostgreSQL 15 (the repository is made with --pg-bin, and pg_dump must be as new as the
# server), on one disk: as root an XFS loop file (reflink copies, as on a laptop with XFS or btrfs); BENCH_FS=own
# keeps /tmp's. Each measure runs ROUNDS times (default 3) in turn with its baseline; medians are compared.
# Usage: bench/mask.sh [ROWS_MILLIONS]   (default 5: about 1 GB; needs psql, pg_dump and postgresql-15)
. "$(dirname "$0")/lib.sh"
need psql pg_dump
MILLIONS=${1:-5}
ROUNDS=${ROUNDS:-3}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
if [ "$(id -u)" = 0 ] && [ "${BENCH_FS:-xfs}" = xfs ] && make_loop_fs xfs 30000; then
  BENCH_PARENT="$LOOP_DIR"
fi
start_repo --pg-bin "$PG_BIN"
as_pg=(); if [ "$(id -u)" = 0 ]; then as_pg=(runuser -u postgres --); fi
PLAIN="$BENCH_TMP/plain"; PLAIN_SOCK=$(mktemp -d /tmp/zenith-bench-plain.XXXXXX); PLAIN_PORT=$(free_port)
mkdir -p "$PLAIN"; [ "$(id -u)" = 0 ] && chown postgres "$PLAIN" "$PLAIN_SOCK"
stop_all() {
  # KEEP_LOGS=DIR keeps the repository's logs (the derivations' psql runs, the computes') for a look after
  [ -n "${KEEP_LOGS:-}" ] && rm -rf "$KEEP_LOGS" && cp -r "$REPO/logs" "$KEEP_LOGS"
  "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$PLAIN" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PLAIN_SOCK"; stop_repo; cleanup_loops
}
trap stop_all EXIT
"${as_pg[@]}" "$PG_BIN/initdb" -D "$PLAIN" -U postgres --auth=trust --no-locale -E UTF8 >/dev/null
"${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$PLAIN" -l "$PLAIN_SOCK/log" -w \
  -o "-p $PLAIN_PORT -c listen_addresses= -c unix_socket_directories=$PLAIN_SOCK" start >/dev/null
plain() { psql -X -q -h "$PLAIN_SOCK" -p "$PLAIN_PORT" -U postgres "$@"; }
main() { proxy_psql main "$1" >/dev/null; }

# the same rows on both sides: ten columns, one of them an e-mail address to mask
PEOPLE="CREATE TABLE people (id bigint PRIMARY KEY, email text UNIQUE, c2 text, c3 text, c4 int, c5 int, c6 timestamptz,
  c7 text, c8 numeric, c9 text);
INSERT INTO people SELECT g, 'person' || g || '@corp.example', md5(g::text), md5((g + 1)::text), g % 1000, g % 77,
  timestamptz '2020-01-01' + g * interval '1 minute', repeat('x', 20), g * 1.5, md5((g + 2)::text)
  FROM generate_series(1, $MILLIONS * 1000000) g;
CHECKPOINT"
HASH="encode(sha256(convert_to('key' || (email)::text, 'UTF8')), 'hex')"
main "$PEOPLE"
plain -d postgres -c "$PEOPLE" >/dev/null
size=$(proxy_psql main "SELECT pg_size_pretty(pg_total_relation_size('people'))")
echo "people: $MILLIONS million rows, $size with its indexes"
printf 'postgres:\n  people:\n    email: hash\n' > "$BENCH_TMP/rules.yaml"

mask=(); mask_base=()
for round in $(seq "$ROUNDS"); do
  plain -d postgres -c "CREATE TABLE people_copy AS SELECT * FROM people; ALTER TABLE people_copy ADD PRIMARY KEY (id);
    CREATE UNIQUE INDEX ON people_copy (email); CHECKPOINT"
  t=$(now_ns)
  plain -d postgres -c "UPDATE people_copy SET email = $HASH" -c "VACUUM FULL people_copy"
  mask_base+=("$(ms_since "$t")")
  plain -d postgres -c "DROP TABLE people_copy"
  t=$(now_ns); z branch "safe-$round" main --mask "$BENCH_TMP/rules.yaml" >/dev/null; mask+=("$(ms_since "$t")")
  echo "masking, round $round: UPDATE + VACUUM FULL ${mask_base[-1]} ms, zenith branch --mask ${mask[-1]} ms"
  z branch delete "safe-$round" >/dev/null
done

# 200 tables of about 5 MB each, with a primary key and one more index, in a database of their own
plain -d postgres -c "CREATE DATABASE shop" -c "CREATE DATABASE shop_copy"
proxy_psql main "CREATE DATABASE shop" >/dev/null
TABLES=$(python3 -c "
rows = $MILLIONS * 1000000 // 200
print(';'.join(f'CREATE TABLE t{i} (id int PRIMARY KEY, a text, b int, c timestamptz DEFAULT now());'
               f'INSERT INTO t{i} (id, a, b) SELECT g, md5(g::text) || md5((g+1)::text), g % 97 FROM generate_series(1, {rows}) g;'
               f'CREATE INDEX ON t{i} (b)' for i in range(200)))")
psql -X -q "host=127.0.0.1 port=$PROXY_PORT dbname=shop user=$(whoami) options=branch=main" -c "$TABLES" -c "CHECKPOINT"
plain -d shop -c "$TABLES" -c "CHECKPOINT"
echo "shop: 200 tables, $(psql -X -At "host=127.0.0.1 port=$PROXY_PORT dbname=shop user=$(whoami) options=branch=main" \
  -c "SELECT pg_size_pretty(pg_database_size('shop'))")"
schema=(); schema_base=()
for round in $(seq "$ROUNDS"); do
  plain -d postgres -c "DROP DATABASE shop_copy" -c "CREATE DATABASE shop_copy"
  t=$(now_ns)
  pg_dump -h "$PLAIN_SOCK" -p "$PLAIN_PORT" -U postgres --schema-only shop | plain -d shop_copy >/dev/null
  schema_base+=("$(ms_since "$t")")
  t=$(now_ns); z branch "empty-$round" main --schema-only >/dev/null; schema+=("$(ms_since "$t")")
  echo "schema-only, round $round: pg_dump -s | psql ${schema_base[-1]} ms, zenith branch --schema-only ${schema[-1]} ms"
  z branch delete "empty-$round" >/dev/null
done

mask_ms=$(median "${mask[@]}"); mask_base_ms=$(median "${mask_base[@]}")
schema_ms=$(median "${schema[@]}"); schema_base_ms=$(median "${schema_base[@]}")
append_results "Masked and schema-only branches, $MILLIONS million rows ($size) and 200 tables, PostgreSQL from $PG_BIN" "| what | zenith | baseline | ratio (goal) |
| --- | --- | --- | --- |
| a masked branch, one column of ten hashed, median of $ROUNDS (each: ${mask[*]}) | $mask_ms ms | the same UPDATE + VACUUM FULL on a plain PostgreSQL (${mask_base[*]}): $mask_base_ms ms | $(ratio "$mask_ms" "$mask_base_ms") (at most 1.5) |
| a schema-only branch of 200 tables, median of $ROUNDS (each: ${schema[*]}) | $schema_ms ms | pg_dump --schema-only into psql, plain PostgreSQL (${schema_base[*]}): $schema_base_ms ms | $(ratio "$schema_ms" "$schema_base_ms") (at most 1.2) |"
