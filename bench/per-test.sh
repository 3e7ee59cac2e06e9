#!/usr/bin/env bash
# A branch per test (issue 18): TESTS tests, each inserting and reading a row in isolation on a seeded
# database of about SIZE_MB (pgbench). Per test, a zenith branch (create through the API, first query
# through the proxy, which starts its compute, delete) against CREATE DATABASE ... TEMPLATE seeded, the
# same query, DROP DATABASE on a plain PostgreSQL with the same binaries and data, in the same run.
# On the repository's own file system and, as root, on an XFS loop file (reflink: copies are clones).
# Goals (issue 31): at most 0.4x the template database's time per test on XFS, 0.8x on ext4; the whole run under 15 s.
# Usage: bench/per-test.sh [SIZE_MB] [TESTS]   (default: 100 50; BENCH_FILESYSTEMS="own xfs")
. "$(dirname "$0")/lib.sh"
need psql pgbench curl
SIZE_MB=${1:-100}
TESTS=${2:-50}
QUERY="INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, 1, 1, now()); SELECT count(*) FROM pgbench_history"

# measure LABEL: both ways in a repository under $BENCH_PARENT; prints one table row
measure() (
  start_repo --idle-timeout never
  fs=$(df -T "$BENCH_TMP" | awk 'NR==2 {print $2}')
  proxy_psql main "SELECT 1" >/dev/null
  port=$(compute_port main)
  pgbench -h 127.0.0.1 -p "$port" -U "$(whoami)" -i -q -s $(( SIZE_MB / 15 + 1 )) postgres >/dev/null 2>&1
  db_mb=$(proxy_psql main "SELECT pg_database_size('postgres') / 1048576")
  z pg stop main >/dev/null

  api="http://127.0.0.1:$API_PORT/v1/branches"
  zenith_ms=()
  t_all=$(now_ns)
  for i in $(seq "$TESTS"); do
    t=$(now_ns)
    curl -sf "${API_AUTH[@]}" -X POST "$api" -d "{\"name\": \"t$i\", \"parent\": \"main\", \"expires\": \"1h\"}" >/dev/null
    rows=$(proxy_psql "t$i" "$QUERY")
    curl -sf "${API_AUTH[@]}" -X DELETE "$api/t$i" >/dev/null
    zenith_ms+=("$(ms_since "$t")")
    [ "$rows" = 1 ] || { echo "bench: test $i saw $rows history rows, not 1: branches are not isolated" >&2; exit 1; }
  done
  zenith_total=$(ms_since "$t_all")

  # the same binaries and data in a plain PostgreSQL, run as the user zenith runs Postgres as
  status=$(z status --json)
  bin=$(echo "$status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pageserver"]["postgresBin"])')
  os_user=$(echo "$status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pageserver"]["osUser"])')
  as_pg=()
  [ "$(id -u)" = 0 ] && as_pg=(setpriv --reuid="$os_user" --regid="$(id -g "$os_user")" --clear-groups)
  plain="$BENCH_TMP/plain"; mkdir -p "$plain"; chown "$os_user" "$plain" 2>/dev/null || true
  "${as_pg[@]}" "$bin/initdb" -D "$plain" -U "$(whoami)" -A trust >/dev/null
  plain_port=$(free_port)
  "${as_pg[@]}" "$bin/pg_ctl" -D "$plain" -l "$plain/log" -o "-p $plain_port -k $plain -c listen_addresses=127.0.0.1" -w start >/dev/null
  trap '"${as_pg[@]}" "$bin/pg_ctl" -D "$plain" -m immediate stop >/dev/null 2>&1; stop_repo' EXIT
  plain_psql() { psql "host=127.0.0.1 port=$plain_port dbname=$1 user=$(whoami)" -Atqc "$2"; }
  plain_psql postgres "CREATE DATABASE seeded" >/dev/null
  pgbench -h 127.0.0.1 -p "$plain_port" -U "$(whoami)" -i -q -s $(( SIZE_MB / 15 + 1 )) seeded >/dev/null 2>&1
  template_ms=()
  t_all=$(now_ns)
  for i in $(seq "$TESTS"); do
    t=$(now_ns)
    plain_psql postgres "CREATE DATABASE t$i TEMPLATE seeded" >/dev/null
    rows=$(plain_psql "t$i" "$QUERY")
    plain_psql postgres "DROP DATABASE t$i" >/dev/null
    template_ms+=("$(ms_since "$t")")
    [ "$rows" = 1 ] || { echo "bench: template test $i saw $rows history rows, not 1" >&2; exit 1; }
  done
  template_total=$(ms_since "$t_all")
  zm=$(median "${zenith_ms[@]}"); tm=$(median "${template_ms[@]}")
  echo "| $1 ($fs) | $db_mb MB | $zm ms | $tm ms | $(ratio "$zm" "$tm") | $zenith_total ms | $template_total ms |"
)

measure_each_filesystem "own xfs" $(( SIZE_MB * 20 + 4096 ))
table="| file system | seeded database | zenith branch per test, median | template database per test, median | ratio (goal <= 0.4 on XFS, 0.8 on ext4) | $TESTS tests, zenith (goal < 15 s) | $TESTS tests, template |
| --- | --- | --- | --- | --- | --- | --- |
$rows

Per test: zenith makes a branch of the stopped seeded main through the API, runs an INSERT and a SELECT
through the proxy (its compute starts on that first query) and deletes the branch; the baseline runs
CREATE DATABASE ... TEMPLATE seeded, the same statements, and DROP DATABASE on a plain PostgreSQL of the
same version with the same pgbench data, on the same file system. Each test checks it saw only its own row."
echo "$table"
BENCH_TMP=/tmp
{
  echo
  echo "### A branch per test ($(date -u +%Y-%m-%dT%H:%MZ))"
  echo
  echo "Machine: $(machine). zenith $(git -C "$ROOT" rev-parse --short HEAD)."
  echo
  echo "$table"
} >> "$RESULTS"
echo "results appended to docs/BENCHMARKS.md"
