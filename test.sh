#!/usr/bin/env bash
# Set up everything the tests need and run every test: server (pytest), browser (headless Chromium)
# and the window smoke test (Xvfb). Extra arguments go to pytest, e.g. ./test.sh tests/server -x
source "$(dirname "$0")/scripts/common.sh"

# Debian packages: Chromium for browser tests, Xvfb + Qt WebEngine's libraries + ImageMagick for the
# window test, CJK fonts so Chinese renders in screenshots. Installed only when missing.
APT_PACKAGES="chromium xvfb imagemagick fonts-noto-cjk libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4
  libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1
  libnss3 libxcomposite1 libxdamage1 libxrandr2 libxtst6 libxkbfile1 libegl1 libgl1 libfontconfig1 libdbus-1-3"
missing=""
for pkg in $APT_PACKAGES; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  echo "==> installing Debian packages:$missing"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

ensure_venv requirements-dev.txt
build_ui
echo "==> running tests"
exec .venv/bin/python -m pytest "$@"
