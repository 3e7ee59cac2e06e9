#!/usr/bin/env bash
# Memory of the standby spare (issue 31): the pageserver's RSS and the spare Postgres's PSS (postmaster and its
# processes, shared memory counted once) once a new branch's first start left a spare running, against the same
# with spareDiskMb -1 (no spares), in one run. Then a second compute under maxComputes 2: the spare stops.
# Usage: bench/spare-memory.sh
. "$(dirname "$0")/lib.sh"
need psql
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
pss_mb() {
  local total=0 p
  for p in $1 $(pgrep -P "$1"); do total=$(( total + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup") )); done
  echo $(( total / 1024 ))
}
log() { cat "$REPO/logs/pageserver.log"; }
await_log() {  # await_log PATTERN: up to 60 s for a line of the daemon's log
  for _ in $(seq 600); do log | grep -q "$1" && return 0; sleep 0.1; done
  echo "bench: no \"$1\" in the daemon's log after 60 s" >&2; exit 1
}

# measure SPARE_DISK_MB: one repository, main stopped with a table, a branch started; prints
# "daemon_rss spare_pss" once the spare is up (0 for none after a settling second without spares)
measure() (
  start_repo --idle-timeout never --max-computes 2
  z pageserver stop >/dev/null
  python3 - "$REPO/config.json" "$1" <<'PY'
import json, sys
path, mb = sys.argv[1], int(sys.argv[2])
config = json.load(open(path)); config["spareDiskMb"] = mb; config["imageAtStopMb"] = 1  # main stops at an image: a branch of it has a spare
json.dump(config, open(path, "w"), indent=2)
PY
  z pageserver start >/dev/null
  proxy_psql main "CREATE TABLE t AS SELECT g FROM generate_series(1, 100000) g" >/dev/null
  z pg stop main >/dev/null
  z branch first main >/dev/null
  proxy_psql first "SELECT count(*) FROM t" >/dev/null
  spare=0
  if [ "$1" != -1 ]; then
    await_log "is ready for a new branch"
    name=$(log | grep -o "standby spare pg[0-9]* on port" | tail -1 | awk '{print $3}')
    spare=$(pss_mb "$(head -1 "$REPO/pgdatadirs/$name/postmaster.pid")")
  else
    sleep 1
  fi
  daemon=$(rss_mb "$(cat "$REPO/pageserver.pid")")
  first=$(z pg list --json | python3 -c "import json,sys; print(next(n['name'] for n in json.load(sys.stdin) if n['branch']=='first'))")
  compute=$(pss_mb "$(head -1 "$REPO/pgdatadirs/$first/postmaster.pid")")
  gave_way=n/a
  if [ "$1" != -1 ]; then
    proxy_psql main "SELECT 1" >/dev/null  # the second compute under maxComputes 2
    await_log "stopping the standby spare $name"
    gave_way="yes, stopped when main started"
  fi
  echo "$daemon $spare $compute $gave_way"
)

read -r d_without _ c_without _ <<<"$(measure -1)"
read -r d_with s_with c_with gave_way <<<"$(measure 0)"
table="| measure | no spares (spareDiskMb -1) | with the standby spare |
| --- | --- | --- |
| pageserver RSS | $d_without MB | $d_with MB |
| the standby spare (postmaster and its processes, PSS) | none | $s_with MB |
| the started branch's compute, for scale (PSS) | $c_without MB | $c_with MB |
| under maxComputes 2, a second compute starts | | the spare gives way: $gave_way |"
echo "$table"
BENCH_TMP=/tmp
{
  echo
  echo "### Memory of the standby spare ($(date -u +%Y-%m-%dT%H:%MZ))"
  echo
  echo "Machine: $(machine). zenith $(git -C "$ROOT" rev-parse --short HEAD)."
  echo
  echo "$table"
} >> "$RESULTS"
echo "results appended to docs/BENCHMARKS.md"
