#!/usr/bin/env bash
# `make bench` (after `make build`): builds the bench program and runs it against the published bin/qomfs.
# It starts its own QEMUs and mounts, stops them by PID, and prints one table (see docs/bench.md).
# Arguments go to the bench: --smoke (one quick run: the plain QEMU 7.2, and QEMU 11's cold dump row), --runs N
# (default 5), --qemu N (only the rows of QEMU N: 7 or 11), --pin (each QEMU on CPU 0, the rest on CPU 1).
set -euo pipefail
cd "$(dirname "$0")/.."
export QOMFS_BIN=${QOMFS_BIN:-$PWD/bin/qomfs}
[[ -x $QOMFS_BIN ]] || { echo "bench: $QOMFS_BIN does not exist: run 'make build' first" >&2; exit 1; }
dotnet build tests/QomFs.Bench -c Release --nologo -v quiet -clp:ErrorsOnly </dev/null >&2
exec artifacts/bin/QomFs.Bench/release/QomFs.Bench "$@" </dev/null
