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

declare -a http_lat tcp_lat http_qps tcp_qps ws_sel tcp_sel forks
for round in $(seq "$ROUNDS"); do
  r=$(NODE_PATH="$CLIENTS/node_modules" node "$BENCH_DIR/neon-driver.js" "$PROXY_PORT" "$(whoami)" "$SECONDS_PER_RUN")
  read -r a b c d e f g < <(python3 -c "import json,sys; r=json.loads(sys.argv[1]); print(r['httpLatencyUs'], r['tcpLatencyUs'], r['httpQps16'], r['tcpQps16'], r['wsSelectsPerSecond'], r['tcpSelectsPerSecond'], r['backendsFor1000'])" "$r")
  http_lat+=("$a"); tcp_lat+=("$b"); http_qps+=("$c"); tcp_qps+=("$d"); ws_sel+=("$e"); tcp_sel+=("$f"); forks+=("$g")
  echo "round $round: latency neon() ${a} us, pg ${b} us; 16 at once neon() ${c}/s, pg ${d}/s; selects Pool/ws ${e}/s, pg ${f}/s; backends for 1000 neon() $g"
done
hl=$(median "${http_lat[@]}"); tl=$(median "${tcp_lat[@]}"); hq=$(median "${http_qps[@]}"); tq=$(median "${tcp_qps[@]}")
ws=$(median "${ws_sel[@]}"); ts=$(median "${tcp_sel[@]}"); fk=$(printf '%s\n' "${forks[@]}" | sort -n | tail -1)
append_results "Neon's serverless driver (@neondatabase/serverless 1.2.0) through the proxy, $SECONDS_PER_RUN s runs, $ROUNDS rounds" "| what | neon driver | pg over TCP through the proxy | ratio (goal) |
| --- | --- | --- | --- |
| \`neon()\` \`SELECT \$1::int\`, median latency, 1 client, keep-alive (rounds: ${http_lat[*]} / ${tcp_lat[*]}) | $hl us | $tl us | $(ratio "$hl" "$tl") (at most 2) |
| \`neon()\` queries per second, 16 at once (rounds: ${http_qps[*]} / ${tcp_qps[*]}) | $hq | $tq (Pool of 16) | $(ratio "$hq" "$tq") (at least 0.5) |
| \`Pool\` over WebSocket, pgbench -S's select, 16 clients, per second (rounds: ${ws_sel[*]} / ${tcp_sel[*]}) | $ws | $ts | $(ratio "$ws" "$ts") (at least 0.8) |
| backends forked by 1,000 sequential \`neon()\` queries, most of any round (${forks[*]}) | $fk | | (at most 20, the pool's size) |"
