#!/usr/bin/env bash
# Runs every test project and ends with one line computed from the real results:
# "N passed, N failed, N skipped". Exits non-zero when anything failed or nothing ran.
# --fast (make test-fast): only the in-process tests, none tagged with a real peer's category (tests/QomFs.Testing/Needs.cs).
set -uo pipefail
cd "$(dirname "$0")/.."

filter=()
if [[ ${1:-} == --fast ]]; then
  filter=(--filter "TestCategory!=Qemu&TestCategory!=Agent&TestCategory!=Fuse&TestCategory!=Binary&TestCategory!=Soak&TestCategory!=Libvirt")
fi

results=$(mktemp -d /tmp/qomfs-results.XXXXXX)
trap 'rm -rf "$results"' EXIT
export QOMFS_BIN=${QOMFS_BIN:-$PWD/bin/qomfs}

# One project at a time: the tests start real QEMUs and mounts, and the machine has two cores.
dotnet build QomFs.sln -c Debug --nologo -v quiet -clp:ErrorsOnly </dev/null || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }
status=0
for proj in tests/*.Tests/*.csproj; do
  name=$(basename "$proj" .csproj)
  dotnet test "$proj" --no-build --nologo -v quiet "${filter[@]}" --logger "trx;LogFileName=$results/$name.trx" \
    --logger "console;verbosity=minimal" </dev/null || status=1
done

passed=0 failed=0 skipped=0 files=0
for trx in "$results"/*.trx; do
  [[ -f $trx ]] || continue
  files=$((files + 1))
  counters=$(grep -o '<Counters [^>]*>' "$trx")
  get() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  skipped=$((skipped + $(get notExecuted)))
done
expected=$(ls tests/*.Tests/*.csproj | wc -l)
if ((files < expected)); then
  failed=$((failed + expected - files))   # a project whose run produced no results counts as a failure
fi
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0 && passed > 0 && status == 0))
