# Sourced by ./zenith, the installed bin/zenith and ./run-tests: sets ZENITH_JAVA_HOME to a JDK >= 21 found in JAVA_HOME,
# on the PATH or under /usr/lib/jvm (and macOS's java_home), or explains what to install.
# Versions are read from each JDK's `release` file, so no JVM is started to choose one.
zenith_java_version() {
  local line
  if [ -f "$1/release" ]; then
    while IFS= read -r line; do
      case "$line" in JAVA_VERSION=*) line=${line#JAVA_VERSION=\"}; echo "${line%%\"*}"; return 0 ;; esac
    done <"$1/release"
  fi
  "$1/bin/java" -version 2>&1 | awk -F'"' '/version/ { print $2; exit }'
}

zenith_java_major() {
  local v
  v=$(zenith_java_version "$1")
  v=${v#1.}
  echo "${v%%.*}"
}

zenith_find_java() {
  local candidates=() c major
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  if command -v java >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  fi
  for c in /usr/lib/jvm/*; do [ -d "$c" ] && candidates+=("$c"); done
  if [ -x /usr/libexec/java_home ]; then
    c=$(/usr/libexec/java_home -v 21+ 2>/dev/null) && candidates+=("$c")
  fi
  for c in "${candidates[@]}"; do
    [ -x "$c/bin/java" ] && [ -x "$c/bin/javac" ] || continue
    major=$(zenith_java_major "$c")
    if [ -n "$major" ] && [ "$major" -ge 21 ] 2>/dev/null; then
      ZENITH_JAVA_HOME="$c"
      return 0
    fi
  done
  echo "zenith: needs a JDK 21 or newer and found none (looked at JAVA_HOME, PATH and /usr/lib/jvm):" \
       "install one, for example 'apt-get install openjdk-21-jdk' or Temurin 21, or point JAVA_HOME at it" >&2
  return 1
}

# zenith_jvm_options ARGS...: sets ZENITH_JVM_OPTIONS, the JVM options for running zenith with ARGS.
zenith_jvm_options() {
  # Commands stop at the quick compiler, which starts them sooner; a clone decompresses and hashes its
  # whole download in the command's own process and runs twice as fast with the optimizing one.
  local quick=true skip_value=false arg
  for arg in "$@"; do
    if $skip_value; then skip_value=false; continue; fi
    case "$arg" in
      --repo) skip_value=true ;;
      -*) ;;
      clone) quick=false; break ;;
      *) break ;;
    esac
  done
  ZENITH_JVM_OPTIONS=(-XX:+UseSerialGC)
  if $quick; then ZENITH_JVM_OPTIONS+=(-XX:TieredStopAtLevel=1); fi
  # JDK 24+ warns on the terminal when a library loads native code (zstd-jni does) unless it is allowed. Not
  # passed to older runtimes: it differs from how their class data sharing archive was dumped, which then
  # gives up its module graph.
  if [ "$(zenith_java_major "$ZENITH_JAVA_HOME")" -ge 24 ]; then
    ZENITH_JVM_OPTIONS+=(--enable-native-access=ALL-UNNAMED)
  fi
}

# zenith_startup_cache BASE CLASSPATH STAMP: sets ZENITH_CACHE_OPTIONS, the options that map zenith's start-up
# cache for this runtime, kept at BASE-<runtime>.aot or .jsa. On JDK 25 and later it is an ahead-of-time cache
# (JEPs 483, 514, 515: classes loaded and linked, method profiles) trained by `--cds-training`, made in the
# background the first time and again when STAMP (the jar) is newer, so no command waits for it; older runtimes
# get a dynamic class data sharing archive, which the JVM writes at the first command's exit. The runtime checks
# either against its own version and the class path, and ignores a cache that does not match (logging off keeps
# that quiet); the runtime's path and version are in the name, so another runtime makes its own.
zenith_startup_cache() {
  local base="$1" classpath="$2" stamp="$3" version runtime file
  version=$(zenith_java_version "$ZENITH_JAVA_HOME")
  runtime="$version${ZENITH_JAVA_HOME//[^A-Za-z0-9.]/_}"
  ZENITH_CACHE_OPTIONS=()
  version=${version#1.}
  if [ "${version%%.*}" -lt 25 ]; then
    ZENITH_CACHE_OPTIONS=(-XX:+AutoCreateSharedArchive -XX:SharedArchiveFile="$base-$runtime.jsa" -Xlog:cds=off -Xlog:cds+dynamic=off)
    return 0
  fi
  file="$base-$runtime.aot"
  if [ -f "$file" ] && [ ! "$stamp" -nt "$file" ]; then
    ZENITH_CACHE_OPTIONS=(-XX:AOTCache="$file" -Xlog:aot=off -Xlog:cds=off)
    return 0
  fi
  # one training at a time; a lock left by a training that was killed is taken over after ten minutes
  find "$file.lock" -maxdepth 0 -mmin +10 -exec rmdir {} \; 2>/dev/null || true
  mkdir "$file.lock" 2>/dev/null || return 0
  ( "$ZENITH_JAVA_HOME/bin/java" "${ZENITH_JVM_OPTIONS[@]}" -XX:AOTCacheOutput="$file.tmp" -Xlog:aot=off -Xlog:cds=off \
      -cp "$classpath" dev.zenith.cli.Main --cds-training && mv -f "$file.tmp" "$file"
    rm -f "$file.tmp" "$file.tmp.config"; rmdir "$file.lock" ) </dev/null >/dev/null 2>&1 &
}
