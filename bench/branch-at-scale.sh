#!/usr/bin/env bash
# Branches at real sizes (issue 13). A parent of SIZE_MB (pgbench) is stopped cleanly; BRANCHES branches are
# made and each gets one connection (first connect timed), then a scattered 1% update and a clean stop.
# Disk is read from the file system's own accounting (df), before and after, per branch. Then the first
# connect to a branch of a *running* parent with WAL since its image, and whether it waited on an
# end-of-recovery checkpoint. On the repository's own file system and, as root with xfsprogs and
# btrfs-progs, on XFS and btrfs loop files.
# Goals: first connect under 200 ms on XFS/btrfs at any size; a new started branch under 20 MB there;
# after the update and a stop under 1.0x the database per branch on XFS (1.6x on ext4).
# Usage: bench/branch-at-scale.sh [SIZE_MB] [BRANCHES]   (default: 300 5; BENCH_FILESYSTEMS="own xfs btrfs ext4")
. "$(dirname "$0")/lib.sh"
need psql pgbench
SIZE_MB=${1:-300}
BRANCHES=${2:-5}

# XFS holds speculative preallocation beyond the end of growing files for up to 5 minutes
# (fs.xfs.speculative_prealloc_lifetime) before it frees it by itself; df would count it as used.
used_mb() {
  if [ "$(df --output=fstype "$1" | tail -1 | tr -d ' ')" = xfs ] && command -v xfs_spaceman >/dev/null 2>&1; then
    xfs_spaceman -c 'prealloc -s' "$1" >/dev/null 2>&1 || true
  fi
  df -BM --output=used "$1" | tail -1 | tr -dc 0-9
}

# measure LABEL: the whole run in a repository under $BENCH_PARENT; prints one table row
measure() (
  start_repo --idle-timeout never
  mount_point=$(df --output=target "$BENCH_TMP" | tail -1)
  fs=$(df -T "$BENCH_TMP" | awk 'NR==2 {print $2}')
  proxy_psql main "SELECT 1" >/dev/null
  port=$(compute_port main)
  pgbench -h 127.0.0.1 -p "$port" -U "$(whoami)" -i -q -s $(( SIZE_MB / 15 + 1 )) postgres >/dev/null 2>&1
  psql "host=127.0.0.1 port=$port dbname=postgres user=$(whoami)" -qc "VACUUM" >/dev/null
  db_mb=$(proxy_psql main "SELECT pg_database_size('postgres') / 1048576")
  z pg stop main >/dev/null
  sync; before=$(used_mb "$mount_point")
  firsts=()
  for i in $(seq "$BRANCHES"); do
    z branch "b$i" main >/dev/null
    t=$(now_ns); proxy_psql "b$i" "SELECT 1" >/dev/null; firsts+=("$(ms_since "$t")")
  done
  sync; started=$(used_mb "$mount_point")
  for i in $(seq "$BRANCHES"); do
    proxy_psql "b$i" "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid % 100 = 0" >/dev/null
    z pg stop "b$i" >/dev/null
  done
  sync; updated=$(used_mb "$mount_point")
  # a branch of a running parent with WAL since its image
  proxy_psql main "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid % 10 = 0" >/dev/null
  z branch running main >/dev/null
  t=$(now_ns); proxy_psql running "SELECT 1" >/dev/null; running_ms=$(ms_since "$t")
  node=$(z pg list --json | python3 -c "import json,sys; print(next(n['name'] for n in json.load(sys.stdin) if n['branch']=='running'))")
  waits=$(grep -c "end-of-recovery immediate wait" "$REPO/logs/compute-$node.log" || true)
  replay=$(grep -o "redo done at .* elapsed: [0-9.]* s" "$REPO/logs/compute-$node.log" | grep -o "[0-9.]* s$" | tail -1)
  sync; total=$(used_mb "$mount_point")
  echo "| $1 ($fs) | $db_mb MB | $(median "${firsts[@]}") (${firsts[*]}) | $(( (started - before) / BRANCHES )) MB | $(( (updated - before) / BRANCHES )) MB | $updated MB | $total MB | $running_ms ms (replay ${replay:-none}), $waits checkpoint waits |"
)

# BENCH_FILESYSTEMS picks what to measure: "own" (the repository's file system) and loop files of
# xfs, btrfs, ext4; by default own, xfs and btrfs.
measure_each_filesystem "own xfs btrfs" $(( SIZE_MB * (BRANCHES + 4) * 3 + 4096 ))
table="| file system | parent database | first connect to a new branch, median ms (all) | disk per new started branch | disk per branch after the 1% update and a stop | whole file system after the branches | whole file system at the end | branch of a running parent: first connect |
| --- | --- | --- | --- | --- | --- | --- | --- |
$rows

$BRANCHES branches of a $SIZE_MB MB pgbench database; disk from df (the file system's own accounting, shared extents
counted once). The running parent had a scattered 10% update since its last image."
echo "$table"
BENCH_TMP=/tmp
{
  echo
  echo "### Branches at real sizes ($(date -u +%Y-%m-%dT%H:%MZ))"
  echo
  echo "Machine: $(machine). zenith $(git -C "$ROOT" rev-parse --short HEAD)."
  echo
  echo "$table"
} >> "$RESULTS"
echo "results appended to docs/BENCHMARKS.md"
