#!/usr/bin/env bash
# System packages the test suite needs beyond Rust and Node: PostgreSQL's server binaries (the
# operator's scale-out test starts its own cluster on 127.0.0.1, tests/common/postgres.rs).
# Installs them with apt-get (as root, or with sudo) when missing; idempotent.
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb > /dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends postgresql > /dev/null
ls /usr/lib/postgresql/*/bin/initdb > /dev/null
