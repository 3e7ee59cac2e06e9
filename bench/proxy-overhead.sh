#!/usr/bin/env bash
# Proxy overhead once connected: pgbench -S with 1, 8 and 32 clients direct to the compute, through
# the zenith proxy and through PgBouncer 1.18 (session mode), interleaved in rounds.
# Goal (issue 31): at least 0.9 of direct at 1 client; at 8 and 32 clients at least 1.1x PgBouncer's ratio in the same run; at 1 client, under 30 us
# added per query.   Usage: bench/proxy-overhead.sh [SECONDS_PER_RUN] [ROUNDS]
. "$(dirname "$0")/lib.sh"
need psql pgbench pgbouncer
SECONDS_PER_RUN=${1:-10}
ROUNDS=${2:-3}
start_repo --idle-timeout never
proxy_psql main "SELECT 1" >/dev/null
PORT=$(compute_port main)
USER_NAME=$(whoami)
pgbench -h 127.0.0.1 -p "$PORT" -U "$USER_NAME" -i -s 10 -q postgres >/dev/null 2>&1

BOUNCER_PORT=$(free_port)
cat > "$BENCH_TMP/pgbouncer.ini" <<INI
[databases]
postgres = host=127.0.0.1 port=$PORT dbname=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir =
auth_type = trust
auth_file = $BENCH_TMP/users.txt
pool_mode = session
max_client_conn = 200
default_pool_size = 40
logfile = $BENCH_TMP/pgbouncer.log
pidfile = $BENCH_TMP/pgbouncer.pid
INI
echo "\"$USER_NAME\" \"\"" > "$BENCH_TMP/users.txt"
chmod 644 "$BENCH_TMP"/pgbouncer.ini "$BENCH_TMP"/users.txt
AS_OTHER=()
[ "$(id -u)" = 0 ] && AS_OTHER=(setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups --)
chmod 777 "$BENCH_TMP"
"${AS_OTHER[@]}" pgbouncer -d "$BENCH_TMP/pgbouncer.ini"
trap 'kill $(cat "$BENCH_TMP/pgbouncer.pid" 2>/dev/null) 2>/dev/null; stop_repo' EXIT

DAEMON_PID=$(cat "$REPO/pageserver.pid")
for _ in $(seq 50); do [ -s "$BENCH_TMP/pgbouncer.pid" ] && break; sleep 0.1; done
BOUNCER_PID=$(cat "$BENCH_TMP/pgbouncer.pid")
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # user + system time of a process, in clock ticks
TICK_US=$(( 1000000 / $(getconf CLK_TCK) ))

# tps CLIENTS CONNINFO [MIDDLE_PID]: pgbench's tps; with a pid, also the CPU that process spent per
# transaction (us) into the array cpu[KEY] named by the 4th argument
tps() {
  local before out
  [ -n "${3:-}" ] && before=$(cpu_ticks "$3")
  out=$(pgbench -n -S -c "$1" -j "$(( $1 < 2 ? 1 : 2 ))" -T "$SECONDS_PER_RUN" "$2" 2>/dev/null)
  if [ -n "${3:-}" ]; then
    cpu[$4]+=" $(awk -v t=$(( ($(cpu_ticks "$3") - before) * TICK_US )) \
      '/actually processed/ {split($0, a, ": "); n = a[2] + 0} END {printf "%.1f", n ? t / n : 0}' <<<"$out")"
  fi
  awk '/^tps/ {print int($3); exit}' <<<"$out"
}

declare -A runs cpu
for round in $(seq "$ROUNDS"); do
  for clients in 1 8 32; do
    runs[direct,$clients]+=" $(tps "$clients" "host=127.0.0.1 port=$PORT dbname=postgres user=$USER_NAME")"
    tps "$clients" "host=127.0.0.1 port=$PROXY_PORT dbname=postgres user=$USER_NAME options=branch=main" \
      "$DAEMON_PID" "proxy,$clients" > "$BENCH_TMP/tps"
    runs[proxy,$clients]+=" $(cat "$BENCH_TMP/tps")"
    tps "$clients" "host=127.0.0.1 port=$BOUNCER_PORT dbname=postgres user=$USER_NAME" \
      "$BOUNCER_PID" "bouncer,$clients" > "$BENCH_TMP/tps"
    runs[bouncer,$clients]+=" $(cat "$BENCH_TMP/tps")"
  done
done

table="| clients | direct tps | zenith proxy tps | PgBouncer tps | proxy / direct | PgBouncer / direct | proxy / PgBouncer | CPU per transaction: proxy / PgBouncer (us) |
| --- | --- | --- | --- | --- | --- | --- | --- |"
data="$BENCH_TMP/overhead.dat"
: > "$data"
for clients in 1 8 32; do
  d=$(median ${runs[direct,$clients]})
  p=$(median ${runs[proxy,$clients]})
  b=$(median ${runs[bouncer,$clients]})
  table="$table
| $clients | $d | $p | $b | **$(ratio "$p" "$d")** | $(ratio "$b" "$d") | **$(ratio "$p" "$b")** | $(median ${cpu[proxy,$clients]}) / $(median ${cpu[bouncer,$clients]}) |"
  echo "$clients $d $p $b" >> "$data"
  if [ "$clients" = 1 ]; then
    added=$(awk -v p="$p" -v d="$d" 'BEGIN { printf "%.1f", (1e6 / p) - (1e6 / d) }')
  fi
done
table="$table

Added latency per query at 1 client: **$added us** (goal under 30 us). Goals: proxy / direct at least 0.9 at 1 client; proxy / PgBouncer at least 1.1 at 8 and 32. Medians of $ROUNDS interleaved rounds of
pgbench -S -T $SECONDS_PER_RUN, scale 10; pgbench runs on the same 2 cores as everything else. CPU per
transaction is the user + system time the zenith daemon (whole JVM) or PgBouncer spent during the run,
divided by the transactions pgbench completed."
echo "$table"
if command -v gnuplot >/dev/null 2>&1; then
  gnuplot <<GP
set terminal pngcairo size 720,420
set output "$ROOT/docs/bench-proxy-overhead.png"
set title "pgbench -S throughput: direct, zenith proxy, PgBouncer"
set xlabel "clients"; set ylabel "transactions per second"; set logscale x 2; set key top left
plot "$data" using 1:2 with linespoints title "direct", "" using 1:3 with linespoints title "zenith proxy", "" using 1:4 with linespoints title "PgBouncer 1.18"
GP
  table="$table

![proxy overhead](bench-proxy-overhead.png)"
fi
append_results "Proxy overhead" "$table"
