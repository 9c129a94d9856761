#!/usr/bin/env bash
# Installs a headless Chromium from Debian when none is on the machine, and prints the path of
# the browser to use (on stdout, one line). The report page's browser test calls it.
#
#   scripts/browser.sh            # prints e.g. /usr/bin/chromium-headless-shell
#
# Looks for, in order: $REPRO_BROWSER, chromium-headless-shell, chromium. When none is found it
# runs `apt-get install --no-install-recommends chromium-headless-shell` (falling back to
# `chromium`), which needs root (or sudo without a password). Exit status 0 with the path, or 1
# with the reason on stderr.
set -euo pipefail

find_browser() {
  if [[ -n "${REPRO_BROWSER:-}" && -x "${REPRO_BROWSER}" ]]; then
    echo "$REPRO_BROWSER"
    return 0
  fi
  local name
  for name in chromium-headless-shell chromium; do
    if command -v "$name" >/dev/null 2>&1; then
      command -v "$name"
      return 0
    fi
  done
  return 1
}

if find_browser; then
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "browser.sh: no chromium found, and installing one needs root (or sudo without a password)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "browser.sh: installing chromium-headless-shell from Debian" >&2
if ! "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends chromium-headless-shell >&2; then
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 update >&2 || true
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends chromium-headless-shell >&2 \
    || "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends chromium >&2 \
    || { echo "browser.sh: apt-get could not install chromium-headless-shell or chromium" >&2; exit 1; }
fi

if find_browser; then
  exit 0
fi
echo "browser.sh: installed, but no chromium-headless-shell or chromium on PATH" >&2
exit 1
