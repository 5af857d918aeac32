#!/usr/bin/env bash
# The page's test in a real headless browser: runs runtime/server's PageBrowserTest (Maven profile -Pbrowser,
# Selenium from Maven Central) against Debian's Chromium and ChromeDriver, installing them with apt-get when
# /usr/bin/chromium or /usr/bin/chromedriver is missing. Screenshots go to runtime/server/target/page-screenshots/.
#
#   scripts/browser-test.sh [MAVEN_ARGS...]      e.g. -Dspherekit.page.model=runs/demo/model.onnx (a real model)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

chromium=/usr/bin/chromium
chromedriver=/usr/bin/chromedriver

fail() {
  echo "browser-test: $*" >&2
  exit 1
}

if [[ ! -x "$chromium" || ! -x "$chromedriver" ]]; then
  command -v apt-get >/dev/null 2>&1 \
    || fail "$chromium or $chromedriver is missing and there is no apt-get to install Debian's chromium and chromium-driver"
  sudo=()
  if [[ "$(id -u)" -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null \
      || fail "$chromium or $chromedriver is missing; installing chromium and chromium-driver needs root (or sudo without a password)"
    sudo=(sudo -n)
  fi
  echo "browser-test: installing Debian's chromium and chromium-driver with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  # the package lists may be stale on a machine that has not run apt-get update yet: update once and retry
  if ! "${sudo[@]}" apt-get install -y -q chromium chromium-driver; then
    "${sudo[@]}" apt-get update -q || fail "apt-get update failed; cannot install chromium and chromium-driver"
    "${sudo[@]}" apt-get install -y -q chromium chromium-driver \
      || fail "apt-get install chromium chromium-driver failed"
  fi
  [[ -x "$chromium" && -x "$chromedriver" ]] \
    || fail "apt-get installed chromium and chromium-driver but $chromium or $chromedriver is still missing"
fi
echo "browser-test: $("$chromium" --version 2>/dev/null | head -n 1); $("$chromedriver" --version | head -n 1)" >&2

mvn -B -Dstyle.color=never -Pbrowser -pl runtime/server -am verify \
  -Dtest=PageBrowserTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dspherekit.chromium="$chromium" -Dspherekit.chromedriver="$chromedriver" "$@"
