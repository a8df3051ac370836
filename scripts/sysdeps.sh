#!/usr/bin/env bash
# Install the Debian packages the test-suite starts for real (PostgreSQL, Redis, headless Chromium), if missing.
set -euo pipefail
need=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
command -v chromium >/dev/null || need+=(chromium)
command -v redis-server >/dev/null || need+=(redis-server)
command -v wrk >/dev/null || need+=(wrk)  # bench/scale.py drives the HTTP load with wrk
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk)  # Chinese text in screenshots
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${need[*]} — run: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "installing ${need[*]} …"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# the Debian package starts a cluster of its own; the tests start theirs, so stop it
command -v pg_ctlcluster >/dev/null && pg_ctlcluster --force 15 main stop 2>/dev/null || true
# likewise Redis: the tests start their own on a free port
command -v service >/dev/null && service redis-server stop >/dev/null 2>&1 || true
