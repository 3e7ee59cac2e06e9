#!/usr/bin/env bash
# First connect to a new branch, for parents of several sizes: time from `zenith branch` to the first
# SELECT 1 through the proxy (median of ROUNDS branches made in a row at the same point, each deleted after),
# and the bytes its data directory took, against the time to copy the parent's image with cp (reflink where the
# file system has it). The first branch of a round starts from a copy; the next ones from the standby spare the
# daemon starts after it, when one is ready.
# Goals: at most the copy time plus 0.5 s; under 200 ms median on XFS and btrfs.
# Usage: [ROUNDS=7] [BENCH_PARENT=DIR] bench/new-branch.sh [SIZES_MB...]  (default: 0 100 1000)
. "$(dirname "$0")/lib.sh"
need psql pgbench gnuplot
ROUNDS=${ROUNDS:-7}
SIZES=("${@:-0 100 1000}")
[ $# -gt 0 ] || SIZES=(0 100 1000)
start_repo --idle-timeout never
proxy_psql main "SELECT 1" >/dev/null
PORT=$(compute_port main)
FS=$(df -T "$BENCH_TMP" | awk 'NR==2 {print $2}')
data="$BENCH_TMP/new-branch.dat"
: > "$data"
rows=""
loaded=0
for mb in "${SIZES[@]}"; do
  if [ "$mb" -gt "$loaded" ]; then
    pgbench -h 127.0.0.1 -p "$PORT" -U "$(whoami)" -i -q -s $(( mb / 15 + 1 )) postgres >/dev/null 2>&1
    psql "host=127.0.0.1 port=$PORT dbname=postgres user=$(whoami)" -qc "VACUUM" >/dev/null
    loaded=$mb
  fi
  size=$(psql "host=127.0.0.1 port=$PORT dbname=postgres user=$(whoami)" -Atqc "SELECT pg_database_size('postgres') / 1048576")
  # a fresh image of main, as the housekeeping loop makes after enough WAL
  z pg stop main >/dev/null
  rounds=()
  for i in $(seq "$ROUNDS"); do
    t=$(now_ns)
    z branch "b${mb}_$i" main >/dev/null
    proxy_psql "b${mb}_$i" "SELECT 1" >/dev/null
    rounds+=("$(ms_since "$t")")
    if [ "$i" -lt "$ROUNDS" ]; then
      z branch delete "b${mb}_$i" >/dev/null
      sleep 1 # a test's own work between two branches, during which the daemon readies the next spare
    fi
  done
  first_ms=$(median "${rounds[@]}")
  spared=$(grep -c "from a standby spare" "$REPO/logs/pageserver.log" || true)
  node=$(z pg list --json | python3 -c "import json,sys; print(next(n['name'] for n in json.load(sys.stdin) if n['branch']=='b${mb}_$ROUNDS'))")
  bytes=$(du -sm "$REPO/pgdatadirs/$node" | cut -f1)
  main_id=$(z branch --json | python3 -c "import json,sys; print(next(b['timelineId'] for b in json.load(sys.stdin) if b['name']=='main'))")
  image=$(ls -d "$REPO/timelines/$main_id/images/"* | sort | tail -1)
  t=$(now_ns); cp -a --reflink=auto "$image" "$BENCH_TMP/copy"; copy_ms=$(ms_since "$t"); rm -rf "$BENCH_TMP/copy"
  proxy_psql main "SELECT 1" >/dev/null
  rows="$rows
| ${size} MB | $first_ms | ${rounds[*]} | ${bytes} MB | $copy_ms | $(awk -v a="$first_ms" -v b="$copy_ms" 'BEGIN { print a - b }') |"
  echo "$size $first_ms $copy_ms" >> "$data"
done
table="| parent database | first connect to a new branch, median ms | rounds (ms) | its data directory | cp of the image, ms | difference, ms |
| --- | --- | --- | --- | --- | --- |$rows

Goal: at most the copy time plus 500 ms. File system: $FS (reflink: $( [ "$FS" = btrfs ] || [ "$FS" = xfs ] && echo possible || echo no)). The new branch is made from
the newest image at or before its branch point plus WAL replay; main is stopped first, and a clean stop with new WAL
keeps its data directory as an image, so the branch copies that image and replays nothing. The baseline copies the same image.
$ROUNDS branches a size, made in a row one second apart; $spared of all started from a standby spare."
gnuplot <<GP
set terminal pngcairo size 720,420
set output "$ROOT/docs/bench-new-branch.png"
set title "First connect to a new branch vs copying the data"
set xlabel "parent database (MB)"; set ylabel "ms"; set key top left
plot "$data" using 1:2 with linespoints title "first connect (zenith)", "" using 1:3 with linespoints title "cp of the image"
GP
table="$table

![new branch](bench-new-branch.png)"
echo "$table"
append_results "First connect to a new branch" "$table"
