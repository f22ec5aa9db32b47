#!/usr/bin/env bash
# Checks the syntax of the Prometheus alerting rules in docs/alerts.yml and runs
# their unit tests (tests/alerts/alerts_test.yml) with promtool. Usage: tests/alerts/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v promtool >/dev/null 2>&1; then
  echo "alerts: promtool not found; run scripts/setup (promtool is in the Debian package prometheus)" >&2
  exit 1
fi
promtool check rules docs/alerts.yml
promtool test rules tests/alerts/alerts_test.yml
