# Sourced by ./zenith, the installed bin/zenith and ./run-tests: sets ZENITH_JAVA_HOME to a JDK >= 21 found in JAVA_HOME,
# on the PATH or under /usr/lib/jvm (and macOS's java_home), or explains what to install.
# Versions are read from each JDK's `release` file, so no JVM is started to choose one.
zenith_java_major() {
  local v
  if [ -f "$1/release" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9.]*\).*/\1/p' "$1/release")
  else
    v=$("$1/bin/java" -version 2>&1 | awk -F'"' '/version/ { print $2; exit }')
  fi
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
  # JDK 24+ warns on the terminal when a library loads native code (zstd-jni does) unless it is allowed
  ZENITH_JVM_OPTIONS+=(--enable-native-access=ALL-UNNAMED)
}
