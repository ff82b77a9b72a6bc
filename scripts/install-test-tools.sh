#!/bin/sh
# Installs what the test suite needs beyond Python: Debian's chromium, which the audit's
# HTML test opens headless. Idempotent: does nothing when chromium is already there.
set -eu

if [ -x /usr/bin/chromium ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
$SUDO apt-get update
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
