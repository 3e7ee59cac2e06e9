#!/usr/bin/env bash
# Scale: N branches (creation, and the listing timed server side), M computes running at once, and a
# storm of C connections to one cold branch.
# Goals: listing under 200 ms server side at 1,000 branches; 20 computes; 200 connections all served.
# Usage: bench/scale.sh [BRANCHES] [COMPUTES] [CONNECTIONS]   (default 1000 20 200)
. "$(dirname "$0")/lib.sh"
need psql curl
BRANCHES=${1:-1000}
COMPUTES=${2:-20}
CONNECTIONS=${3:-200}
start_repo --max-computes $(( COMPUTES + 2 )) --idle-timeout never
t=$(now_ns)
for i in $(seq "$BRANCHES"); do
  curl -s -o /dev/null -X POST "127.0.0.1:$API_PORT/v1/branches" -d "{\"name\":\"s$i\",\"parent\":\"main\"}"
done
create_ms=$(ms_since "$t")
list=()
for i in 1 2 3 4 5; do
  list+=("$(curl -s -o /dev/null -w '%{time_total}' "127.0.0.1:$API_PORT/v1/branches" | awk '{printf "%.0f", $1 * 1000}')")
done
t=$(now_ns)
for i in $(seq "$COMPUTES"); do proxy_psql "s$i" "SELECT 1" >/dev/null & done
wait
computes_ms=$(ms_since "$t")
running=$(z pg list --json | python3 -c "import json,sys; print(sum(1 for n in json.load(sys.stdin) if n['state']=='running'))")
z branch storm main >/dev/null
t=$(now_ns)
ok=0
for i in $(seq "$CONNECTIONS"); do (proxy_psql storm "SELECT 1" >/dev/null 2>&1 && echo ok) & done > "$BENCH_TMP/storm" 
wait
storm_ms=$(ms_since "$t")
ok=$(grep -c ok "$BENCH_TMP/storm" || true)
table="| measure | value |
| --- | --- |
| $BRANCHES branches created through the API, one after another | $create_ms ms ($(( create_ms / BRANCHES )) ms each) |
| listing $(( BRANCHES + 1 )) branches, server side, median of 5 | $(median "${list[@]}") ms (goal under 200 ms) |
| $COMPUTES computes started at once through the proxy | $computes_ms ms, $running running |
| $CONNECTIONS psql connections at once to one cold branch | $ok succeeded, in $storm_ms ms |"
echo "$table"
append_results "Scale" "$table"
