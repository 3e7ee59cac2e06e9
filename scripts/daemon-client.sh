# Sourced by ./zenith and the installed bin/zenith.
#
# zenith_run_in_daemon ARGS...: a command that only talks to the daemon (branch, status, connstr, tag, log -n, diff) is run by
# the daemon itself, sent over its API with curl, so no JVM starts for it: milliseconds where a JVM takes a third
# of a second or more (Bazel's and Nailgun's client and server split; docs/ARCHITECTURE.md weighs it). The
# daemon runs the same code the JVM would, in the client's working directory (ServedCommands).
# Returns 0 when the daemon ran the command, its output printed and its exit code in ZENITH_EXIT_CODE. Returns 1
# having printed nothing when it cannot (no curl, no repository, no daemon, an older daemon, a command the daemon
# leaves to the client): the launcher then runs the command in a JVM, as always.
zenith_run_in_daemon() {
  local arg word="" repo="" want_repo=false dir config port=64000 token headers line code="" stderr="" curl_exit
  ZENITH_EXIT_CODE=
  [ "${ZENITH_IN_DAEMON:-auto}" != never ] || return 1
  command -v curl >/dev/null 2>&1 || return 1
  for arg in "$@"; do
    if $want_repo; then repo=$arg; want_repo=false; continue; fi
    case "$arg" in
      --repo) want_repo=true ;;
      --repo=*) repo=${arg#--repo=} ;;
      -*) [ -n "$word" ] || return 1 ;;
      *) [ -n "$word" ] || word=$arg ;;
    esac
  done
  case "$word" in branch|status|connstr|tag|log|diff) ;; *) return 1 ;; esac
  # the repository as the command line finds it: --repo, $ZENITH_REPO_DIR, else the nearest .zenith upward
  [ -n "$repo" ] || repo=${ZENITH_REPO_DIR:-}
  if [ -n "$repo" ]; then
    case "$repo" in /*) ;; *) repo=$PWD/$repo ;; esac
  else
    dir=$PWD
    until [ -f "$dir/.zenith/config.json" ]; do
      if [ -z "$dir" ] || [ "$dir" = / ]; then return 1; fi
      dir=${dir%/*}
    done
    repo=$dir/.zenith
  fi
  [ -f "$repo/pageserver.pid" ] && [ -r "$repo/api-token" ] && [ -r "$repo/config.json" ] || return 1
  IFS= read -r -d '' config <"$repo/config.json" || true
  if [[ $config =~ \"apiPort\"[[:space:]]*:[[:space:]]*([0-9]+) ]]; then port=${BASH_REMATCH[1]}; fi
  IFS= read -r token <"$repo/api-token" || return 1
  # the body: the working directory, the repository and the words, each ended by a NUL. The command's output
  # goes to our standard output as it is (fd 3: a file reopened by name would be written from its start); its
  # exit code and standard error (Base64) come in the headers, which curl writes to the pipe read here.
  { headers=$(printf '%s\0' "$PWD" "$repo" "$@" | curl -s --fail --noproxy '*' --connect-timeout 2 \
      -H "Authorization: Bearer $token" -H 'Content-Type: application/octet-stream' --data-binary @- \
      -D /dev/stderr -o - "http://127.0.0.1:$port/v1/commands" 2>&1 >&3); curl_exit=$?; } 3>&1
  while IFS= read -r line; do
    line=${line%$'\r'}
    case "${line,,}" in
      zenith-exit-code:*) code=${line#*:}; code=${code# } ;;
      zenith-stderr:*) stderr=${line#*:}; stderr=${stderr# } ;;
    esac
  done <<<"$headers"
  if [ -z "$code" ]; then
    # not connected (7), or refused before anything ran (22: an HTTP error): the JVM runs it
    if [ "$curl_exit" = 7 ] || [ "$curl_exit" = 22 ]; then return 1; fi
    echo "zenith: the pageserver at 127.0.0.1:$port did not answer the command (curl exit $curl_exit):" \
      "see zenith pageserver logs, or run it again with ZENITH_IN_DAEMON=never" >&2
    ZENITH_EXIT_CODE=1
    return 0
  fi
  [ -z "$stderr" ] || printf '%s' "$stderr" | base64 -d >&2
  ZENITH_EXIT_CODE=$code
  return 0
}
