#!/usr/bin/env bash
# From nothing to a first query, with the README's commands: a fresh clone on a machine with a JDK and no
# Maven (./zenith start: the wrapper fetches Maven, the build, the Postgres binaries unpacked, the daemon,
# main's Postgres), and the tarball on an account with no Java (tar xzf, zenith start). Each then runs
# psql -c 'select 1' through the proxy. COLD=1 also empties the Maven repository the clone's build uses
# (a fresh machine downloads every library from Maven Central) and zenith's cache of Postgres binaries.
# Usage: bench/first-query.sh   (needs git, psql; the tarball from ./mvnw package)
. "$(dirname "$0")/lib.sh"
need git psql
TARBALL="$(ls "$ROOT"/core/target/zenith-*.tar.gz 2>/dev/null | head -1)"
[ -f "$TARBALL" ] || { echo "bench: no tarball in core/target (./mvnw -DskipTests package -pl core)" >&2; exit 1; }
WORK=$(mktemp -d /tmp/zenith-first.XXXXXX)
chmod 755 "$WORK"
cleanup() {
  for repo in "$WORK"/clone/.zenith "$WORK"/home/project/.zenith; do
    [ -d "$repo" ] && "$ZENITH" --repo "$repo" pageserver stop >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

first_query() {  # first_query PORT: psql select 1 through the proxy
  psql "host=127.0.0.1 port=$1 dbname=postgres user=$(whoami) options=branch=main" -Atqc "select 1"
}

# 1. a clone: JDK yes, Maven no (the wrapper's Maven is fetched: ~/.m2/wrapper emptied first)
mkdir -p "$WORK/m2" "$WORK/cache"
rm -rf "$HOME/.m2/wrapper"
m2=()
if [ "${COLD:-0}" = 1 ]; then m2=(-Dmaven.repo.local="$WORK/m2"); export ZENITH_CACHE_DIR="$WORK/cache"; fi
git clone -q "$ROOT" "$WORK/clone"
P1=$(free_port); A1=$(free_port)
t=$(now_ns)
(cd "$WORK/clone" && MAVEN_ARGS="${m2[*]:-}" ./zenith --version >/dev/null)
build_ms=$(ms_since "$t")
(cd "$WORK/clone" && ./zenith init --api-port "$A1" --proxy-port "$P1" >/dev/null)
init_ms=$(( $(ms_since "$t") - build_ms ))
(cd "$WORK/clone" && ./zenith start >/dev/null)
[ "$(first_query "$P1")" = 1 ]
clone_ms=$(ms_since "$t")
"$ZENITH" --repo "$WORK/clone/.zenith" pageserver stop >/dev/null

# 2. the tarball, as the README installs it, with no Java on the PATH
mkdir -p "$WORK/home/project"
chmod -R 755 "$WORK/home"
P2=$(free_port); A2=$(free_port)
t=$(now_ns)
if [ "${COLD:-0}" = 1 ]; then export ZENITH_CACHE_DIR="$WORK/cache-tarball"; fi
(cd "$WORK/home/project" && env -i HOME="$WORK/home" PATH="$WORK/home/.local/bin:/usr/bin:/bin" ${ZENITH_CACHE_DIR:+ZENITH_CACHE_DIR="$ZENITH_CACHE_DIR"} bash -c "
  mkdir -p ~/.local/opt ~/.local/bin
  tar xzf '$TARBALL' -C ~/.local/opt
  ln -sf ~/.local/opt/\$(basename '$TARBALL' .tar.gz)/bin/zenith ~/.local/bin/zenith
  zenith init --api-port $A2 --proxy-port $P2 >/dev/null && zenith start >/dev/null")
[ "$(first_query "$P2")" = 1 ]
tarball_ms=$(ms_since "$t")
echo "| $( [ "${COLD:-0}" = 1 ] && echo "cold: empty Maven repository and Postgres cache" || echo "warm: libraries and Postgres binaries cached") | $clone_ms ms (build $build_ms, init $init_ms, start and query $(( clone_ms - build_ms - init_ms ))) | $tarball_ms ms |"
