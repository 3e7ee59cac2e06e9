#!/usr/bin/env bash
# Push, clone and pull through a local S3 server (issue 16), against the same bytes moved by the same
# client library in a plain loop (bench/S3Loop.java: no hashing, no compression), in one run.
# A database of SIZE_MB (pgbench) on main, stopped; a branch "big" with its own ~SIZE_MB/4 of writes.
# Measured: push of main (its files' bytes per second) and a clone of main against the loop's upload
# and download of the same files; an incremental push of the running main after 1,000 small commits;
# what a clone of one branch downloads against what the remote holds.
# Goals: push and clone >= 0.7x the loop's throughput; incremental push < 2 s; a clone of one branch
# downloads only what that branch needs.
# Usage: bench/remote.sh [SIZE_MB]   (default 1000; needs psql, pgbench, python3; S3Proxy from mvn package)
. "$(dirname "$0")/lib.sh"
need psql pgbench
SIZE_MB=${1:-1000}
S3JAR="$ROOT/core/target/test-servers/s3proxy.jar"
[ -f "$S3JAR" ] || { echo "bench: $S3JAR is missing (./mvnw -o package -DskipTests -pl core)" >&2; exit 1; }
. "$ROOT/scripts/find-java.sh"
zenith_find_java || exit 1
JAVA="$ZENITH_JAVA_HOME/bin/java"
DEPS=$(mktemp)
(cd "$ROOT" && ./mvnw -o -q -pl core dependency:build-classpath -Dmdep.outputFile="$DEPS" >/dev/null)

start_repo --idle-timeout never
S3DIR="$BENCH_TMP/s3"; mkdir -p "$S3DIR/data/bench"
S3PORT=$(free_port)
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret
cat > "$S3DIR/s3proxy.properties" <<PROPS
s3proxy.endpoint=http://127.0.0.1:$S3PORT
s3proxy.authorization=aws-v4
s3proxy.identity=$AWS_ACCESS_KEY_ID
s3proxy.credential=$AWS_SECRET_ACCESS_KEY
jclouds.provider=filesystem
jclouds.filesystem.basedir=$S3DIR/data
PROPS
"$JAVA" -jar "$S3JAR" --properties "$S3DIR/s3proxy.properties" > "$S3DIR/s3proxy.log" 2>&1 &
S3PID=$!
trap 'kill $S3PID 2>/dev/null; stop_repo; rm -f "$DEPS"' EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$S3PORT) 2>/dev/null && break; sleep 0.2; done
ENDPOINT="http://127.0.0.1:$S3PORT"

proxy_psql main "SELECT 1" >/dev/null
port=$(compute_port main)
pgbench -h 127.0.0.1 -p "$port" -U "$(whoami)" -i -q -s $(( SIZE_MB / 15 + 1 )) postgres >/dev/null 2>&1
db_mb=$(proxy_psql main "SELECT pg_database_size('postgres') / 1048576")
z pg stop main >/dev/null
z remote add origin s3://bench/zenith --endpoint "$ENDPOINT" >/dev/null

# the files a push of main reads: its WAL and the data directories of its images
timeline=$(ls "$REPO/timelines")
mapfile -t files < <(find "$REPO/timelines/$timeline/wal" "$REPO/timelines/$timeline/wal-partial" "$REPO/timelines/$timeline/images" -type f | sort)
read -r loop_bytes loop_up_ms loop_down_ms < <("$JAVA" -cp "$(cat "$DEPS")" "$BENCH_DIR/S3Loop.java" "$ENDPOINT" bench loop "$BENCH_TMP/loop" "${files[@]}")
rm -rf "$BENCH_TMP/loop"

t=$(now_ns); push_json=$(z push main --json); push_ms=$(ms_since "$t")
sent=$(echo "$push_json" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["bytesSent"])')

CLONE="$BENCH_TMP/clone"
t=$(now_ns)
"$ZENITH" clone s3://bench/zenith "$CLONE" --endpoint "$ENDPOINT" --api-port "$(free_port)" --proxy-port "$(free_port)" \
  --proxy-socket-dir "$BENCH_TMP" --compute-port-base $(( 20000 + RANDOM % 20000 )) >/dev/null
clone_ms=$(ms_since "$t")
rm -rf "$CLONE"

# 1,000 small commits on the running main, then an incremental push (its open WAL archived first)
proxy_psql main "CREATE TABLE IF NOT EXISTS notes (id int, note text)" >/dev/null
python3 -c 'print("\n".join(f"INSERT INTO notes VALUES ({i}, '"'"'note {i}'"'"');" for i in range(1000)))' \
  | psql "host=127.0.0.1 port=$PROXY_PORT dbname=postgres user=$(whoami) options=branch=main" -q >/dev/null
t=$(now_ns); incr_json=$(z push main --json); incr_ms=$(ms_since "$t")
incr_sent=$(echo "$incr_json" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["bytesSent"])')

# a branch with its own writes; a clone of main alone must not fetch them
z branch big main >/dev/null
proxy_psql big "CREATE TABLE filler AS SELECT g, md5(g::text) AS h FROM generate_series(1, $(( SIZE_MB * 2500 ))) g" >/dev/null
z pg stop big >/dev/null
z push big >/dev/null
remote_mb=$(du -sm "$S3DIR/data/bench/zenith" | cut -f1)
t=$(now_ns)
"$ZENITH" clone s3://bench/zenith "$CLONE" --branch main --endpoint "$ENDPOINT" --api-port "$(free_port)" \
  --proxy-port "$(free_port)" --proxy-socket-dir "$BENCH_TMP" --compute-port-base $(( 20000 + RANDOM % 20000 )) >/dev/null
one_ms=$(ms_since "$t")
one_mb=$(du -sm "$CLONE/.zenith/timelines" | cut -f1)
timelines_here=$(ls "$REPO/timelines" | wc -l); timelines_cloned=$(ls "$CLONE/.zenith/timelines" | wc -l)

mb() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1048576 }'; }
rate() { awk -v b="$1" -v ms="$2" 'BEGIN { printf "%.0f", b / 1048576 / (ms / 1000) }'; }
push_rate=$(rate "$loop_bytes" "$push_ms"); loop_up_rate=$(rate "$loop_bytes" "$loop_up_ms")
clone_rate=$(rate "$loop_bytes" "$clone_ms"); loop_down_rate=$(rate "$loop_bytes" "$loop_down_ms")
body="Database $db_mb MB (pgbench), main's files $(mb "$loop_bytes") MB; S3Proxy 4.1.0 (filesystem backend) on loopback.

| what | zenith | plain loop, same client | ratio (goal >= 0.7) |
| --- | --- | --- | --- |
| push of main (stopped) | $push_ms ms, $push_rate MB/s of files, $(mb "$sent") MB sent (zstd) | $loop_up_ms ms, $loop_up_rate MB/s | $(ratio "$loop_up_ms" "$push_ms") |
| clone of main | $clone_ms ms, $clone_rate MB/s of files | $loop_down_ms ms, $loop_down_rate MB/s | $(ratio "$loop_down_ms" "$clone_ms") |

- Incremental push of the running main after 1,000 single-row commits: $incr_ms ms, $(mb "$incr_sent") MB sent (goal < 2 s).
- The remote after pushing main and \`big\` (its own $(( SIZE_MB * 2500 / 1000 ))k-row table): $remote_mb MB; \`zenith clone --branch main\`: $one_ms ms, $one_mb MB of timelines, $timelines_cloned of the origin's $timelines_here timelines fetched."
echo "$body"
append_results "Remote: push, clone, incremental push (bench/remote.sh $SIZE_MB)" "$body"
