#!/bin/sh
# Install the system packages the test suite needs, when they are missing and we are root (CI).
#
#   postgresql-15, postgresql-15-postgis-3  the throwaway PostGIS server (tests/pgcluster.py)
#   chromium                                browser tests and server-side chart export (kaleido)
#   fonts-noto-cjk                          Chinese text in exported charts
#
# Does nothing when everything is present. Not root: prints a loud warning and exits 0; the tests
# that need a missing piece then skip, and CI=true turns those skips into failures.
set -u

PACKAGES="postgresql-15 postgresql-15-postgis-3 chromium fonts-noto-cjk"

missing=""
for pkg in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $pkg"
    fi
done

if [ -z "$missing" ]; then
    echo "ensure_test_deps: all present ($PACKAGES)"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
    echo "!! ensure_test_deps: MISSING:$missing" >&2
    echo "!! Not root, so not installing. Tests needing them will SKIP (FAIL under CI=true)." >&2
    echo "!! Install with: sudo apt-get install -y$missing" >&2
    echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
echo "ensure_test_deps: installing$missing"
# shellcheck disable=SC2086  # word splitting of the package list is intended
if ! apt-get install -y --no-install-recommends --no-upgrade $missing; then
    apt-get update && apt-get install -y --no-install-recommends --no-upgrade $missing
fi
