#!/usr/bin/env bash
# The full soak of issue 6: stop-and-go writers on three branches whose computes are suspended and
# resumed every cycle, branch churn and reads through the proxy, for SECONDS (default 600). The test
# suite runs the same test for 90 s. Prints the figures and appends them to docs/RELIABILITY.md.
#   Usage: bench/soak.sh [SECONDS]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SECONDS_TO_RUN=${1:-600}
. "$ROOT/scripts/find-java.sh"
zenith_find_java || exit 1
cd "$ROOT"
JAVA_HOME="$ZENITH_JAVA_HOME" ./mvnw -q -B verify -pl core -Dtest=SoakTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dzenith.soak.seconds="$SECONDS_TO_RUN" -DskipITs >/dev/null
line=$(grep -h '^soak ' core/target/surefire-reports/dev.zenith.it.SoakTest-output.txt | tail -1)
echo "$line"
{
  echo
  echo "### Soak ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, zenith $(git rev-parse --short HEAD))"
  echo
  echo "$line"
} >> docs/RELIABILITY.md
echo "results appended to docs/RELIABILITY.md"
