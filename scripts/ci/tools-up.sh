#!/usr/bin/env bash
# tools-up.sh - the command-line tools the test suite drives for real, installed with apt when
# missing (CI runs as root on Debian). Idempotent and quick when everything is there.
#
#   go             tests/e2e/evidence-frames.test.ts builds and crashes a real Go program
#   tmux           the `watch` dashboard is driven in a real terminal
#   dash           install.sh is run by Debian's /bin/sh
#   (ShellCheck)   install.sh and update.sh are checked as POSIX sh by `shellcheck -s sh`
#   qemu-aarch64-static  the cross-built linux-arm64 binary is started under emulation
#   libc6-arm64-cross    …with this aarch64 glibc (qemu-aarch64-static -L /usr/aarch64-linux-gnu)
#   xz, file       release archives (.tar.xz) and the release build's format checks
#   chromium       the web viewer is driven in headless Chromium (playwright-core)
#   bash-completion  `autosentry completion bash` is sourced in a real bash (tests/e2e/onboarding.test.ts)
#   zsh, fish      the zsh and fish completion scripts are loaded in real shells (same test)
#   systemctl      install-service's systemctl path is driven where no user manager runs (service.test.ts)
#   gcc            the native capture helper is compiled by the build and by its tests (issue 13)
#   aarch64-linux-gnu-gcc  …and cross-compiled for the linux-arm64 release (gcc-aarch64-linux-gnu)
#
# A tool that cannot be installed is reported; the tests that need it then fail (never skip
# silently), so the reason is visible in the run.
set -uo pipefail
declare -A pkg=(
  [go]=golang-go
  [tmux]=tmux
  [dash]=dash
  [shellcheck]=shellcheck
  [qemu-aarch64-static]=qemu-user-static
  [xz]=xz-utils
  [file]=file
  [chromium]=chromium
  [zsh]=zsh
  [fish]=fish
  [systemctl]=systemd
  [gcc]=gcc
  [aarch64-linux-gnu-gcc]=gcc-aarch64-linux-gnu
)
missing=()
for tool in "${!pkg[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("${pkg[$tool]}")
done
# Not a command: bash-completion is a file that completion scripts source.
[ -f /usr/share/bash-completion/bash_completion ] || missing+=(bash-completion)
# Not a command either: the aarch64 loader qemu-user runs the cross-built binary with.
[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] || missing+=(libc6-arm64-cross)
if [ ${#missing[@]} -eq 0 ]; then
  echo "[tools-up] all test tools present"
  exit 0
fi
echo "[tools-up] installing: ${missing[*]}"
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "[tools-up] cannot install (needs root and apt-get): ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null 2>&1 || true
if ! apt-get install -y -qq "${missing[@]}" >/dev/null; then
  echo "[tools-up] apt-get install failed for: ${missing[*]}" >&2
  exit 1
fi
echo "[tools-up] installed: ${missing[*]}"
