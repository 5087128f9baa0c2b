#!/usr/bin/env bash
# npm run demo: build the binary and supervise the bundled example job (examples/oom-train) in a
# scratch copy, so the repository stays clean. The job runs out of (simulated) GPU memory at
# BATCH_SIZE=64; the rule oom_halve_batch restarts it with BATCH_SIZE=32 and it completes.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
ROOT=$PWD
echo "== building dist/autosentry"
npm run --silent build >/dev/null
WORK=$(mktemp -d "${TMPDIR:-/tmp}/autosentry-demo.XXXXXX")
# The scratch copy is removed when the demo succeeds; a failed demo keeps it for inspection, and
# AUTOSENTRY_KEEP_DEMO=1 keeps it either way.
cleanup() {
  local rc=$?
  if [ "$rc" -eq 0 ] && [ "${AUTOSENTRY_KEEP_DEMO:-}" != 1 ]; then
    rm -rf "$WORK"
    echo "== removed the scratch copy $WORK (AUTOSENTRY_KEEP_DEMO=1 keeps it)"
  else
    echo "== the scratch copy is kept: $WORK"
  fi
}
trap cleanup EXIT
cp -R examples/oom-train/. "$WORK/"
cd "$WORK"
echo "== supervising the example job in $WORK"
echo
set +e
"$ROOT/dist/autosentry" run
rc=$?
set -e
echo
echo "== autosentry run exited with $rc"
"$ROOT/dist/autosentry" status
echo
"$ROOT/dist/autosentry" incidents list
INCIDENT=$("$ROOT/dist/autosentry" incidents list --json | tail -n 1 |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{if(s.trim())console.log(JSON.parse(s).id)})')
if [ -n "$INCIDENT" ]; then
  echo
  echo "== incident folder: $WORK/.autosentry/incidents/$INCIDENT"
  ls -R "$WORK/.autosentry/incidents/$INCIDENT"
  echo
  echo "== report.md"
  cat "$WORK/.autosentry/incidents/$INCIDENT/report.md"
fi
exit "$rc"
