#!/usr/bin/env bash
# Cold connect: a stopped branch to its first SELECT 1 through the proxy, against bare
# `pg_ctl start -w` plus a direct connection on the same data directory, interleaved.
# Goal: median at most 0.6 times the bare figure (issue 31), and under 120 ms.   Usage: bench/cold-start.sh [ROUNDS]
. "$(dirname "$0")/lib.sh"
need psql
ROUNDS=${1:-11}
start_repo
z branch cold main >/dev/null
proxy_psql cold "CREATE TABLE warm AS SELECT generate_series(1, 1000) AS x" >/dev/null
NODE=$(z pg list --json | python3 -c "import json,sys; print(next(n['name'] for n in json.load(sys.stdin) if n['branch']=='cold'))")
PORT=$(compute_port cold)
DATA="$REPO/pgdatadirs/$NODE"
BIN=$(z status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["pageserver"]["postgresBin"])')
AS_PG=()
[ "$(id -u)" = 0 ] && AS_PG=(setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups --)
touch "$BENCH_TMP/bare.log"
[ "$(id -u)" = 0 ] && chown nobody "$BENCH_TMP/bare.log"

zenith_ms=()
bare_ms=()
for i in $(seq "$ROUNDS"); do
  z pg stop cold >/dev/null
  t=$(now_ns); proxy_psql cold "SELECT 1" >/dev/null; zenith_ms+=("$(ms_since "$t")")
  z pg stop cold >/dev/null
  t=$(now_ns)
  "${AS_PG[@]}" "$BIN/pg_ctl" -D "$DATA" -l "$BENCH_TMP/bare.log" -w start >/dev/null
  psql "host=127.0.0.1 port=$PORT dbname=postgres user=$(whoami)" -Atqc "SELECT 1" >/dev/null
  bare_ms+=("$(ms_since "$t")")
  "${AS_PG[@]}" "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
done
z_med=$(median "${zenith_ms[@]}")
b_med=$(median "${bare_ms[@]}")
table="| measure | median ms | all rounds (ms) |
| --- | --- | --- |
| zenith: stopped branch to first SELECT 1 through the proxy | $z_med | ${zenith_ms[*]} |
| bare: pg_ctl start -w + direct psql, same data | $b_med | ${bare_ms[*]} |

Ratio zenith / bare: **$(ratio "$z_med" "$b_med")** (goal at most 0.6, and under 120 ms). $ROUNDS interleaved rounds; psql's own start is in both."
echo "$table"
append_results "Cold connect" "$table"
