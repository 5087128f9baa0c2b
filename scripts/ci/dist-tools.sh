#!/usr/bin/env bash
# dist-tools.sh - the Debian packages the distribution tests (tests/e2e/install.test.ts,
# update.test.ts) run: shellcheck (install.sh is linted as POSIX sh), dash (Debian's /bin/sh, which
# install.sh must run under), qemu-user-static + libc6-arm64-cross (the cross-built linux-arm64
# binary is run under qemu-user), xz-utils and file. Idempotent: installs only what is missing.
set -euo pipefail
declare -A probe=(
  [shellcheck]=/usr/bin/shellcheck
  [dash]=/usr/bin/dash
  [qemu-user-static]=/usr/bin/qemu-aarch64-static
  [libc6-arm64-cross]=/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1
  [xz-utils]=/usr/bin/xz
  [file]=/usr/bin/file
)
need=()
for pkg in "${!probe[@]}"; do [ -e "${probe[$pkg]}" ] || need+=("$pkg"); done
if [ ${#need[@]} -eq 0 ]; then echo "dist tools: all present"; exit 0; fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then sudo=(sudo -n); fi
echo "dist tools: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 ||
  { "${sudo[@]}" apt-get update -qq && "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }
