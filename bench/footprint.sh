#!/usr/bin/env bash
# Footprint: the pageserver's memory idle and with 10 computes, the memory of one idle compute, and
# the disk a new branch takes after its first start and after changing 1% of its parent's data.
# Usage: bench/footprint.sh [PARENT_MB]   (default 1000)
. "$(dirname "$0")/lib.sh"
need psql pgbench
PARENT_MB=${1:-1000}
start_repo --idle-timeout never --max-computes 12
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
pss_mb() {  # PSS of a postmaster and its children: shared memory counted once across them
  local total=0 p
  for p in $1 $(pgrep -P "$1"); do total=$(( total + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup") )); done
  echo $(( total / 1024 ))
}
DAEMON=$(cat "$REPO/pageserver.pid")
idle_daemon=$(rss_mb "$DAEMON")
for i in $(seq 10); do z branch "f$i" main >/dev/null; proxy_psql "f$i" "SELECT 1" >/dev/null; done
ten_daemon=$(rss_mb "$DAEMON")
node=$(z pg list --json | python3 -c "import json,sys; print(next(n['name'] for n in json.load(sys.stdin) if n['branch']=='f1'))")
compute_pss=$(pss_mb "$(head -1 "$REPO/pgdatadirs/$node/postmaster.pid")")
for i in $(seq 10); do z pg stop "f$i" --destroy >/dev/null; z branch delete "f$i" >/dev/null; done

proxy_psql main "SELECT 1" >/dev/null
PORT=$(compute_port main)
pgbench -h 127.0.0.1 -p "$PORT" -U "$(whoami)" -i -q -s $(( PARENT_MB / 15 + 1 )) postgres >/dev/null 2>&1
psql "host=127.0.0.1 port=$PORT dbname=postgres user=$(whoami)" -qc "VACUUM" >/dev/null
parent=$(psql "host=127.0.0.1 port=$PORT dbname=postgres user=$(whoami)" -Atqc "SELECT pg_database_size('postgres') / 1048576")
z pg stop main >/dev/null
z branch child main >/dev/null
proxy_psql child "SELECT 1" >/dev/null
tl=$(z branch --json | python3 -c "import json,sys; print(next(b['timelineId'] for b in json.load(sys.stdin) if b['name']=='child'))")
cnode=$(z pg list --json | python3 -c "import json,sys; print(next(n['name'] for n in json.load(sys.stdin) if n['branch']=='child'))")
disk() { echo "$(du -sm "$REPO/timelines/$tl" | cut -f1) MB in the repository + $(du -sm "$REPO/pgdatadirs/$cnode" | cut -f1) MB data directory"; }
first=$(disk)
accounts=$(proxy_psql child "SELECT count(*) FROM pgbench_accounts")
proxy_psql child "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid % 100 = 0" >/dev/null
z pg stop child >/dev/null
changed=$(disk)
table="| measure | value |
| --- | --- |
| pageserver RSS, idle | $idle_daemon MB |
| pageserver RSS, 10 computes running | $ten_daemon MB |
| one idle compute (postmaster and its processes, PSS) | $compute_pss MB |
| new branch of a $parent MB parent after its first start | $first |
| the same after updating 1% of its rows ($(( accounts / 100 )) of $accounts) and a clean stop | $changed |

The data directory is a full copy on $(df -T "$BENCH_TMP" | awk 'NR==2 {print $2}') (no reflink here); on btrfs or xfs it would share
the parent's unchanged blocks. The branch's own repository storage is its WAL and, after a clean stop, its image."
echo "$table"
append_results "Footprint" "$table"
