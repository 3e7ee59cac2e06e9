#!/usr/bin/env bash
# The CLI's answer time, in one run: `zenith branch` and `zenith branch NAME main` from the installed tarball's
# bin/zenith (which the daemon answers: scripts/daemon-client.sh), the same commands in a JVM of their own
# (ZENITH_IN_DAEMON=never, with the start-up cache made) and `zenith --version` (always a JVM), against a
# hello-world on the tarball's runtime with the same JVM options. Median of ROUNDS; wall and CPU time.
# Goal: `zenith branch` and `zenith branch NAME main` at most 2x the hello-world.
# Usage: bench/cli.sh [ROUNDS]   (needs the tarball: ./mvnw -DskipTests package)
. "$(dirname "$0")/lib.sh"
need curl /usr/bin/time
ROUNDS=${1:-20}
tarball=$(ls "$ROOT"/core/target/zenith-*.tar.gz 2>/dev/null | head -1)
[ -n "$tarball" ] || { echo "bench: no tarball in core/target: run ./mvnw -DskipTests package first" >&2; exit 1; }
UNPACKED=$(mktemp -d /tmp/zenith-cli-bench.XXXXXX)
chmod 755 "$UNPACKED"
tar xzf "$tarball" -C "$UNPACKED"
home=$(echo "$UNPACKED"/zenith-*)
ZENITH="$home/bin/zenith"
export ZENITH_CACHE_DIR="$UNPACKED/cache"
start_repo --idle-timeout never
trap 'stop_repo; rm -rf "$UNPACKED"' EXIT

# the hello-world, compiled by a JDK on this machine for the tarball's runtime, run with zenith's JVM options
. "$ROOT/scripts/find-java.sh"
zenith_find_java
mkdir "$UNPACKED/hello"
printf 'public class Hello { public static void main(String[] a) { System.out.println("hello"); } }\n' >"$UNPACKED/hello/Hello.java"
"$ZENITH_JAVA_HOME/bin/javac" --release 21 -d "$UNPACKED/hello" "$UNPACKED/hello/Hello.java"
ZENITH_JAVA_HOME="$home/runtime"
zenith_jvm_options branch
hello=("$home/runtime/bin/java" "${ZENITH_JVM_OPTIONS[@]}" -cp "$UNPACKED/hello" Hello)

# the first command starts the start-up cache's training in the background: wait for the cache
z --version >/dev/null
for _ in $(seq 120); do ls "$ZENITH_CACHE_DIR"/*.aot >/dev/null 2>&1 && break; sleep 0.5; done
ls "$ZENITH_CACHE_DIR"/*.aot >/dev/null 2>&1 || echo "bench: no start-up cache after 60 s: the JVM rows run without it" >&2

# time ROUNDS runs of a command line (a counter in it, {i}, makes each new); prints "median_ms median_cpu_ms all..."
time_rounds() {
  local wall=() cpu=() i t line
  for i in $(seq "$ROUNDS"); do
    line=("${@//\{i\}/$i}")
    t=$(now_ns)
    /usr/bin/time -o "$UNPACKED/time" -f '%U %S' "${line[@]}" >/dev/null 2>&1 || { echo "bench: ${line[*]} failed" >&2; exit 1; }
    wall+=("$(awk -v ns=$(( $(now_ns) - t )) 'BEGIN { printf "%.1f", ns / 1e6 }')")
    cpu+=("$(awk '{ printf "%.0f", ($1 + $2) * 1000 }' "$UNPACKED/time")")
  done
  echo "$(median "${wall[@]}") $(median "${cpu[@]}") ${wall[*]}"
}

row() {  # row LABEL COMMAND...
  local label="$1" r
  shift
  r=($(time_rounds "$@"))
  echo "| $label | ${r[0]} | ${r[1]} | $(ratio "${r[0]}" "$HELLO") | ${r[*]:2} |"
}

h=($(time_rounds "${hello[@]}"))
HELLO=${h[0]}
rows="| hello-world, same runtime and options | ${h[0]} | ${h[1]} | 1.00 | ${h[*]:2} |
$(row '`zenith branch`' "$ZENITH" --repo "$REPO" branch)
$(row '`zenith branch NAME main`' "$ZENITH" --repo "$REPO" branch "served{i}" main)
$(row '`zenith branch`, in a JVM' env ZENITH_IN_DAEMON=never "$ZENITH" --repo "$REPO" branch)
$(row '`zenith branch NAME main`, in a JVM' env ZENITH_IN_DAEMON=never "$ZENITH" --repo "$REPO" branch "jvm{i}" main)
$(row '`zenith --version` (a JVM)' "$ZENITH" --version)"
table="| command | median ms | median CPU ms | x hello-world | rounds (ms) |
| --- | --- | --- | --- | --- |
$rows

\`bench/cli.sh $ROUNDS\`: the tarball's bin/zenith, $ROUNDS rounds each, in turn; CPU is user + system of the
command and its children (the daemon's share is not in it). Goal: the first two rows at most 2x the hello-world."
echo "$table"
append_results "CLI answer time" "$table"
