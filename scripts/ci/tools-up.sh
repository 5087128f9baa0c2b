#!/usr/bin/env bash
# Command-line tools some tests drive for real (installed with apt when missing; needs root):
#   bash-completion   tests/e2e/onboarding.test.ts sources `autosentry completion bash` in bash
set -euo pipefail
need=()
[ -f /usr/share/bash-completion/bash_completion ] || need+=(bash-completion)
if [ ${#need[@]} -gt 0 ]; then
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }
fi
