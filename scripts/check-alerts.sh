#!/usr/bin/env bash
# Checks the shipped Prometheus alert rules and runs their unit tests with promtool (Debian's
# `prometheus` package: apt-get install --no-install-recommends prometheus).
set -euo pipefail
cd "$(dirname "$0")/../ops/prometheus"
if ! command -v promtool >/dev/null 2>&1; then
  echo "promtool not found: apt-get install --no-install-recommends prometheus" >&2
  exit 1
fi
promtool check rules herald-alerts.yml
promtool test rules herald-alerts.test.yml
