# Shared by the bench/ scripts: a throwaway repository on free ports, timers, medians, and the
# results file. Source it; never run it.
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
ZENITH="$ROOT/zenith"
RESULTS="$ROOT/docs/BENCHMARKS.md"

need() {
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || { echo "bench: $tool is missing (apt-get install postgresql-client pgbouncer gnuplot-nox)" >&2; exit 1; }
  done
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

now_ns() { date +%s%N; }
ms_since() { echo $(( ($(now_ns) - $1) / 1000000 )); }

# median of the numbers given as arguments
median() {
  printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }'; }

# A repository in a fresh directory that the Postgres OS user can enter, with the pageserver running.
# Sets BENCH_TMP, REPO, API_PORT, PROXY_PORT and API_AUTH (curl's header with the API token); stops
# everything on exit. BENCH_PARENT picks the
# directory (and so the file system) it is made in; /tmp by default.
start_repo() {
  BENCH_TMP=$(mktemp -d "${BENCH_PARENT:-/tmp}/zenith-bench.XXXXXX")
  chmod 755 "$BENCH_TMP"
  REPO="$BENCH_TMP/.zenith"
  API_PORT=$(free_port)
  PROXY_PORT=$(free_port)
  "$ZENITH" --repo "$REPO" init --api-port "$API_PORT" --proxy-port "$PROXY_PORT" \
    --proxy-socket-dir "$BENCH_TMP" --compute-port-base $(( 20000 + RANDOM % 20000 )) "$@" >/dev/null
  trap stop_repo EXIT
  "$ZENITH" --repo "$REPO" pageserver start >/dev/null
  API_AUTH=(-H "Authorization: Bearer $(cat "$REPO/api-token")")
}

stop_repo() {
  [ -n "${REPO:-}" ] && "$ZENITH" --repo "$REPO" pageserver stop >/dev/null 2>&1 || true
  # BENCH_KEEP_LOG=FILE keeps the daemon's log, to see where a run's time went
  [ -n "${BENCH_KEEP_LOG:-}" ] && [ -n "${REPO:-}" ] && cp "$REPO/logs/pageserver.log" "$BENCH_KEEP_LOG" 2>/dev/null
  [ -n "${BENCH_TMP:-}" ] && rm -rf "$BENCH_TMP"
}

z() { "$ZENITH" --repo "$REPO" "$@"; }

# The port of the compute serving a branch (from zenith pg list --json).
compute_port() {
  z pg list --json | python3 -c "import json,sys; print(next(n['port'] for n in json.load(sys.stdin) if n['branch']=='$1' and not n.get('readOnlyAt')))"
}

proxy_psql() {  # proxy_psql BRANCH SQL
  psql "host=127.0.0.1 port=$PROXY_PORT dbname=postgres user=$(whoami) options=branch=$1" -Atqc "$2"
}

machine() {
  echo "$(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr), $(df -T "$BENCH_TMP" | awk 'NR==2 {print $2}'),"\
    "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
}

# append_results TITLE BODY: a dated section in docs/BENCHMARKS.md
append_results() {
  {
    echo
    echo "### $1 ($(date -u +%Y-%m-%dT%H:%MZ))"
    echo
    echo "Machine: $(machine). PostgreSQL $(z status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["pageserver"]["postgresVersion"])'), zenith $(git -C "$ROOT" rev-parse --short HEAD)."
    echo
    echo "$2"
  } >> "$RESULTS"
  echo "results appended to docs/BENCHMARKS.md"
}

# make_loop_fs FS SIZE_MB: as root, a FS file system (xfs with reflink) in a SIZE_MB loop file, mounted on a
# new directory named in LOOP_DIR; returns 1 (saying why) when mkfs.FS is missing. cleanup_loops
# unmounts and removes every one made: set it as the EXIT trap.
LOOPS=()
make_loop_fs() {
  command -v "mkfs.$1" >/dev/null 2>&1 || { echo "bench: mkfs.$1 is missing (apt-get install xfsprogs btrfs-progs); skipping $1" >&2; return 1; }
  LOOP_DIR=$(mktemp -d "/tmp/zenith-$1.XXXXXX"); LOOPS+=("$LOOP_DIR")
  truncate -s "$2M" "$LOOP_DIR.img"
  case "$1" in
    xfs) mkfs.xfs -q -m reflink=1 "$LOOP_DIR.img" ;;
    ext4) mkfs.ext4 -q -F "$LOOP_DIR.img" ;;
    *) "mkfs.$1" -q "$LOOP_DIR.img" ;;
  esac
  mount -o loop "$LOOP_DIR.img" "$LOOP_DIR"; chmod 755 "$LOOP_DIR"
}
cleanup_loops() { for m in "${LOOPS[@]}"; do umount -l "$m" 2>/dev/null || true; rm -rf "$m" "$m.img"; done; }

# measure_each_filesystem DEFAULTS LOOP_MB: runs the script's measure function on the repository's own
# file system ("own") and, as root, on a new LOOP_MB loop file of each other type named in
# $BENCH_FILESYSTEMS (DEFAULTS when unset, e.g. "own xfs"); leaves one table row per file system in rows.
measure_each_filesystem() {
  local filesystems=${BENCH_FILESYSTEMS:-$1} fs
  rows=""
  [[ " $filesystems " == *" own "* ]] && rows="$(measure "repository's own file system")"
  trap cleanup_loops EXIT
  if [ "$(id -u)" = 0 ]; then
    for fs in $filesystems; do
      [ "$fs" = own ] && continue
      make_loop_fs "$fs" "$2" || continue
      rows="${rows:+$rows
}$(BENCH_PARENT="$LOOP_DIR" measure "loop file")"
    done
  else
    echo "bench: loop file systems need root to mount; measuring the repository's own file system only" >&2
  fi
}
