#!/usr/bin/env bash
# Console liveness: how long after a change the console's event stream (/v1/events) carries it, for a
# branch made by the API and for a client connecting through the proxy to a running compute.
# Goal: within 1 s.   Usage: bench/console-latency.sh [ROUNDS]
. "$(dirname "$0")/lib.sh"
need psql curl python3
ROUNDS=${1:-10}
start_repo --idle-timeout never

# Prints the milliseconds from just before CHANGE runs until a state event contains NEEDLE (a regular expression).
seen_after() {  # seen_after NEEDLE CHANGE...
  local needle="$1"; shift
  local fifo="$BENCH_TMP/events"
  rm -f "$fifo"; mkfifo "$fifo"
  curl -sN "${API_AUTH[@]}" "127.0.0.1:$API_PORT/v1/events" > "$fifo" &
  local curl_pid=$!
  exec 3< "$fifo"
  local line
  while read -r line <&3; do [[ $line == data:* ]] && break; done   # the state before the change
  local t; t=$(now_ns)
  "$@" >/dev/null &
  local change=$!
  while read -r line <&3; do
    if [[ $line == data:* ]] && grep -Eq "$needle" <<< "$line"; then break; fi
  done
  echo "$(ms_since "$t")"
  wait "$change"
  exec 3<&-
  kill "$curl_pid" 2>/dev/null || true
  wait "$curl_pid" 2>/dev/null || true
}

created=(); connected=()
for i in $(seq "$ROUNDS"); do
  created+=("$(seen_after "\"name\":\"live_$i\"" curl -s "${API_AUTH[@]}" -X POST "127.0.0.1:$API_PORT/v1/branches" -d "{\"name\":\"live_$i\",\"parent\":\"main\"}")")
  # a client connects to live_i's running compute: the console counts it
  z pg start "live_$i" >/dev/null
  connected+=("$(seen_after "\"branch\":\"live_$i\"[^}]*\"state\":\"running\",[^}]*\"connections\":1" \
    psql "host=127.0.0.1 port=$PROXY_PORT dbname=postgres user=$(whoami) options=branch=live_$i" -Atqc "SELECT pg_sleep(1.5)")")
done
table="| change | median ms until the console's stream shows it | rounds, ms |
| --- | --- | --- |
| branch created (API) | $(median "${created[@]}") | ${created[*]} |
| a client connects through the proxy (connections 0 -> 1) | $(median "${connected[@]}") | ${connected[*]} |

Goal: within 1 s of the change (the stream samples every 300 ms). $ROUNDS rounds."
echo "$table"
append_results "Console liveness" "$table"
