#!/usr/bin/env bash
# Branch creation: server side (the API call, timed by curl) and the CLI round trip (`zenith branch`,
# JVM start included), with main running empty and after loading about SIZE_MB of data.
# Goal: server side under 20 ms at any size; the CLI under 400 ms.   Usage: bench/branch-create.sh [SIZE_MB] [ROUNDS]
. "$(dirname "$0")/lib.sh"
need psql pgbench curl
SIZE_MB=${1:-1000}
ROUNDS=${2:-15}
start_repo --idle-timeout never
proxy_psql main "SELECT 1" >/dev/null
PORT=$(compute_port main)

measure() {  # measure KEY LABEL
  local server=() cli=() i t code
  for i in $(seq "$ROUNDS"); do
    code=$(curl -s "${API_AUTH[@]}" -o /dev/null -w '%{http_code} %{time_total}' -X POST "127.0.0.1:$API_PORT/v1/branches" \
      -d "{\"name\":\"s_$1_$i\",\"parent\":\"main\"}")
    [ "${code%% *}" = 201 ] || { echo "bench: branch creation failed: $code" >&2; exit 1; }
    server+=("$(echo "${code#* }" | awk '{printf "%.1f", $1 * 1000}')")
    t=$(now_ns); z branch "c_$1_$i" main >/dev/null; cli+=("$(ms_since "$t")")
  done
  echo "| $2 | $(median "${server[@]}") | $(median "${cli[@]}") | ${server[*]} | ${cli[*]} |"
}

rows="$(measure empty empty)"
pgbench -h 127.0.0.1 -p "$PORT" -U "$(whoami)" -i -q -s $(( SIZE_MB / 15 + 1 )) postgres >/dev/null 2>&1
size=$(psql "host=127.0.0.1 port=$PORT dbname=postgres user=$(whoami)" -Atqc "SELECT pg_size_pretty(pg_database_size('postgres'))")
rows="$rows
$(measure loaded "$size")"
table="| parent database | server side, median ms | CLI round trip, median ms | server rounds | CLI rounds |
| --- | --- | --- | --- | --- |
$rows

Goals: server side under 20 ms at any size, CLI under 400 ms. Parent running (each branch writes a restore point); $ROUNDS rounds each."
echo "$table"
append_results "Branch creation" "$table"
