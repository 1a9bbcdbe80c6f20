#!/usr/bin/env bash
# Installs and starts, idempotently, the system components the test suite talks to. Called by `npm test`.
# As root it installs missing Debian packages; otherwise it says what to install. Under CI=true a missing
# component is a failure, never a skip.
set -uo pipefail

log() { printf '[test-setup] %s\n' "$*"; }
is_root() { [ "$(id -u)" = 0 ]; }
apt_updated=0
apt_install() {
  if ! is_root; then
    log "missing: $* — install with: sudo apt-get install -y --no-install-recommends $*"
    return 1
  fi
  if [ "$apt_updated" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 || true
    apt_updated=1
  fi
  log "installing $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

failed=0
need() { # need <command> <debian packages...>
  local cmd=$1; shift
  command -v "$cmd" >/dev/null 2>&1 || [ -x "$cmd" ] || apt_install "$@" || failed=1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# >>> monitoring assets (issue 7): Prometheus 2.x + Alertmanager 0.25 from Debian, for promtool/amtool tests
# and the end-to-end demo. Only installs; the tests start their own instances on loopback.
need prometheus prometheus prometheus-alertmanager
need promtool prometheus
need amtool prometheus-alertmanager
need prometheus-alertmanager prometheus-alertmanager
# <<< monitoring assets

# >>> dashboard (issue 8): Debian's Chromium for the browser tests (playwright-core drives it; never a
# downloaded browser).
need /usr/bin/chromium chromium
# <<< dashboard

if [ "$failed" != 0 ]; then
  if [ "${CI:-}" = true ]; then
    log "a component the suite needs is missing (see above); under CI this is a failure"
    exit 1
  fi
  log "some components are missing; the tests that need them will say so and skip"
fi
exit 0
