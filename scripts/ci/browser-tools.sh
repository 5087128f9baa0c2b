#!/usr/bin/env bash
# browser-tools.sh - what the `autosentry web` and `watch` end-to-end tests need, from Debian's apt:
# chromium (driven headless by playwright-core: tests/e2e/web*.test.ts) and tmux (the terminal
# for tests/e2e/watch*.test.ts). Installs only what is missing; idempotent; no download of a
# browser by a test tool (npx playwright install does not work offline).
set -euo pipefail
need=()
command -v chromium >/dev/null || [ -x /usr/bin/chromium ] || need+=(chromium)
command -v tmux >/dev/null || need+=(tmux)
if [ ${#need[@]} -gt 0 ]; then
  echo "[browser-tools] installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 || {
    apt-get update -qq >/dev/null 2>&1
    apt-get install -y -qq "${need[@]}" >/dev/null
  }
fi
echo "[browser-tools] $(/usr/bin/chromium --version 2>/dev/null | head -1); $(tmux -V)"
