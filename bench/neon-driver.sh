#!/usr/bin/env bash
# Neon's serverless driver against zenith, each side through the proxy and measured in the same run:
# neon() over HTTP and the driver's Pool over WebSocket against node-postgres over TCP, interleaved in rounds.
# Goals: neon() median latency at most 2x pg's over TCP (1 client, keep-alive); neon() queries per second
# with 16 at once at least 0.5x pg's with 16 pooled clients; Pool over WebSocket, a pgbench -S-like select
# loop with 16 clients, at least 0.8x pg over TCP; 1,000 sequential neon() queries fork at most the pool's
# size (20) of backends.   Usage: bench/neon-driver.sh [SECONDS_PER_RUN] [ROUNDS]
. "$(dirname "$0")/lib.sh"
need psql pgbench node npm
SECONDS_PER_RUN=${1:-10}
ROUNDS=${2:-3}
CLIENTS="$ROOT/core/target/node-clients"
if ! cmp -s "$ROOT/core/src/test/node/package-lock.json" "$CLIENTS/package-lock.json" 2>/dev/null; then
  mkdir -p "$CLIENTS" && cp "$ROOT"/core/src/test/node/package*.json "$CLIENTS/"
  (cd "$CLIENTS" && npm ci --no-audit --no-fund >/dev/null)
fi
start_repo --idle-timeout never
proxy_psql main "SELECT 1" >/dev/null
pgbench -h 127.0.0.1 -p "$(compute_port main)" -U "$(whoami)" -i -s 1 -q postgres >/dev/null 2>&1

DAEMON_PID=$(cat "$REPO/pageserver.pid")
declare -a http_lat tcp_lat floor_lat http_qps tcp_qps floor_qps ws_sel ws_nc tcp_sel forks http_cpu tcp_cpu ws_cpu tcpsel_cpu
for round in $(seq "$ROUNDS"); do
  r=$(NODE_PATH="$CLIENTS/node_modules" node "$BENCH_DIR/neon-driver.js" "$PROXY_PORT" "$(whoami)" "$SECONDS_PER_RUN" "$DAEMON_PID")
  read -r a b c d e f g h i j k l m n < <(python3 -c "import json,sys; r=json.loads(sys.argv[1]); print(r['httpLatencyUs'], r['tcpLatencyUs'], r['fetchFloorLatencyUs'], r['http16']['rate'], r['tcp16']['rate'], r['fetchFloor16']['rate'], r['wsSelects']['rate'], r['wsSelectsUncoalesced']['rate'], r['tcpSelects']['rate'], r['backendsFor1000'], r['http16']['cpuUs'], r['tcp16']['cpuUs'], r['wsSelects']['cpuUs'], r['tcpSelects']['cpuUs'])" "$r")
  http_lat+=("$a"); tcp_lat+=("$b"); floor_lat+=("$c"); http_qps+=("$d"); tcp_qps+=("$e"); floor_qps+=("$f")
  ws_sel+=("$g"); ws_nc+=("$h"); tcp_sel+=("$i"); forks+=("$j"); http_cpu+=("$k"); tcp_cpu+=("$l"); ws_cpu+=("$m"); tcpsel_cpu+=("$n")
  echo "round $round: latency neon() $a us, pg $b us, fetch floor $c us; 16 at once neon() $d/s, pg $e/s, fetch floor $f/s;" \
    "selects Pool/ws $g/s (uncoalesced $h/s), pg $i/s; backends for 1000 neon() $j; daemon CPU per query: neon() $k us, pg $l us, ws $m us, pg select $n us"
done
hl=$(median "${http_lat[@]}"); tl=$(median "${tcp_lat[@]}"); fl=$(median "${floor_lat[@]}")
hq=$(median "${http_qps[@]}"); tq=$(median "${tcp_qps[@]}"); fq=$(median "${floor_qps[@]}")
ws=$(median "${ws_sel[@]}"); wn=$(median "${ws_nc[@]}"); ts=$(median "${tcp_sel[@]}")
fk=$(printf '%s\n' "${forks[@]}" | sort -n | tail -1)
append_results "Neon's serverless driver (@neondatabase/serverless 1.2.0) through the proxy, $SECONDS_PER_RUN s runs, $ROUNDS rounds" "| what | neon driver | pg over TCP through the proxy | ratio (goal) |
| --- | --- | --- | --- |
| \`neon()\` \`SELECT \$1::int\`, median latency, 1 client, keep-alive (rounds: ${http_lat[*]} / ${tcp_lat[*]}) | $hl us | $tl us | $(ratio "$hl" "$tl") (at most 2) |
| the floor under it: Node's \`fetch\` of the same POST, answered 404 by the proxy with no work (${floor_lat[*]}) | $fl us | | $(ratio "$fl" "$tl") |
| \`neon()\` queries per second, 16 at once (rounds: ${http_qps[*]} / ${tcp_qps[*]}) | $hq | $tq (Pool of 16) | $(ratio "$hq" "$tq") (at least 0.5) |
| the floor under it: 16 \`fetch\`es at once answered 404 (${floor_qps[*]}) | $fq | | $(ratio "$fq" "$tq") |
| \`Pool\` over WebSocket, pgbench -S's select, 16 clients, per second (rounds: ${ws_sel[*]} / ${tcp_sel[*]}) | $ws | $ts | $(ratio "$ws" "$ts") (at least 0.8) |
| the same with \`neonConfig.coalesceWrites = false\` (${ws_nc[*]}) | $wn | $ts | $(ratio "$wn" "$ts") |
| backends forked by 1,000 sequential \`neon()\` queries, most of any round (${forks[*]}) | $fk | | (at most 20, the pool's size) |
| the daemon's CPU per query, rounds (16 at once): \`neon()\` ${http_cpu[*]} us, pg ${tcp_cpu[*]} us; selects over WebSocket ${ws_cpu[*]} us, over TCP ${tcpsel_cpu[*]} us | | | |"
