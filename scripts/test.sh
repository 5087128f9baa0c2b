#!/usr/bin/env bash
# The whole test suite, as CI runs it (after `npm ci`): typecheck, lint, unit tests, build, then the
# end-to-end tests that drive dist/autosentry. The last line is always
# `N passed, N failed, N skipped`. Each bun test file counts its tests; typecheck, lint and build
# count as one test each. A skipped test is a gap, so the count is printed rather than hidden.
#
#   AUTOSENTRY_TEST_ONLY=unit|e2e   run just one part (after the checks)
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
passed=0
failed=0
skipped=0
failures=()
failed_tests=() # the "(fail) ..." lines of bun test, repeated at the end so a CI excerpt shows them

step() { # name, command...
  local name=$1; shift
  echo "=== $name"
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$name"); echo "=== FAILED: $name"; fi
}

bun_suite() { # name, bun test args...
  local name=$1; shift
  local log; log=$(mktemp)
  echo "=== $name"
  bun test "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local p f k
  p=$(grep -E '^ *[0-9]+ pass$' "$log" | awk '{s += $1} END {print s + 0}')
  f=$(grep -E '^ *[0-9]+ fail$' "$log" | awk '{s += $1} END {print s + 0}')
  k=$(grep -E '^ *[0-9]+ skip$' "$log" | awk '{s += $1} END {print s + 0}')
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + k))
  if [ "$f" -gt 0 ]; then failures+=("$name ($f)"); fi
  local line
  while IFS= read -r line; do failed_tests+=("$line"); done < <(grep -E '^\(fail\) ' "$log")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then failed=$((failed + 1)); failures+=("$name (runner exit $rc)"); fi
  rm -f "$log"
}

# --- backend services ---------------------------------------------------------------------------
# The SLURM cluster and podman's Docker API that tests/e2e/backends*.test.ts run against
# (scripts/ci/*-up.sh: installed with apt when missing, state under /var/tmp/autosentry-ci).
# Started before the end-to-end tests, stopped after them, also when a test fails or the run is
# interrupted. A service that cannot start is a failed step, and the backend tests fail with it.
# AUTOSENTRY_SKIP_SERVICES=1 (developers) skips the services and, printed, the tests needing them.
services_started=()
services_down() {
  local s
  for s in "${services_started[@]}"; do bash "scripts/ci/$s-down.sh" || true; done
  services_started=()
}
services_up() {
  if [ "${AUTOSENTRY_SKIP_SERVICES:-}" = 1 ]; then
    echo "=== services: skipped (AUTOSENTRY_SKIP_SERVICES=1): the slurm and docker backend tests are skipped"
    return
  fi
  trap services_down EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  local s t0
  for s in slurm podman; do
    t0=$(date +%s%N)
    services_started+=("$s")
    step "$s service" bash "scripts/ci/$s-up.sh"
    echo "=== $s service ready in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
  done
}
# -------------------------------------------------------------------------------------------------

# Tools the tests drive for real (go, tmux, dash, shellcheck, qemu, chromium): apt installs what is
# missing, so no test is skipped for want of a tool.
if [ "${AUTOSENTRY_SKIP_TOOLS:-}" != 1 ]; then step "test tools" bash scripts/ci/tools-up.sh; fi
step typecheck tsc --noEmit -p .
step lint biome check .
if [ "${AUTOSENTRY_TEST_ONLY:-}" != e2e ]; then
  bun_suite "unit tests" src tests/fakes
fi
if [ "${AUTOSENTRY_TEST_ONLY:-}" != unit ]; then
  step build npm run --silent build
  if [ -x dist/autosentry ]; then
    services_up
    bun_suite "end-to-end tests" --timeout 180000 tests/e2e
    services_down
  fi
fi

if [ ${#failed_tests[@]} -gt 0 ]; then printf '%s\n' "${failed_tests[@]}"; fi
if [ ${#failures[@]} -gt 0 ]; then printf 'failed: %s\n' "${failures[@]}"; fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
