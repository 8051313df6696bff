#!/usr/bin/env bash
# The Debian packages the test suite runs for real, installed when missing (as root, with
# apt-get): redis-server (the task queue's tests start their own), graphviz (the
# `flowrun output-dot` test renders with `dot` when it is there), chromium (the web UI's
# tests drive it with playwright-core; no browser is downloaded). `make test` runs this.
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
[ -x /usr/bin/chromium ] || [ -n "${FLOWRUN_CHROMIUM:-}" ] || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "installing ${missing[*]} (Debian packages the tests use)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  exit 0
fi

for package in "${missing[@]}"; do
  case "$package" in
    redis-server)
      echo "the test suite needs redis-server (the task queue's tests start one): install it, e.g. sudo apt-get install redis-server" >&2
      exit 1 ;;
    chromium)
      echo "the test suite needs chromium (the web UI's tests drive it): install it, e.g. sudo apt-get install chromium, or point FLOWRUN_CHROMIUM at one" >&2
      exit 1 ;;
  esac
done
echo "note: ${missing[*]} not installed; the tests that use it are skipped" >&2
