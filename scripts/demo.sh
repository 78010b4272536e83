#!/usr/bin/env bash
# `make run`: a throw-away paused QEMU, its QOM tree mounted at $MOUNT, until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

mount=${MOUNT:-/tmp/qomfs-demo}
work=$(mktemp -d /tmp/qomfs-demo.XXXXXX)
sock=$work/qmp.sock
qemu_pid=

cleanup() {
  trap - EXIT INT TERM
  # Ctrl-C signals the whole process group: the sleeper may be gone already, and set -e must not end the cleanup.
  [[ -n ${sleeper:-} ]] && kill "$sleeper" 2>/dev/null || true
  echo
  if grep -qs " $mount fuse.qomfs " /proc/mounts; then bin/qomfs umount "$mount" 2>/dev/null || true; fi
  if [[ -n $qemu_pid ]]; then kill "$qemu_pid" 2>/dev/null || true; wait "$qemu_pid" 2>/dev/null || true; fi
  rm -rf "$work"
  echo "unmounted $mount and stopped QEMU"
}
trap cleanup EXIT
trap 'exit 130' INT TERM   # exit runs the EXIT trap, once

qemu-system-x86_64 -M q35 -nodefaults -display none -S \
  -qmp "unix:$sock,server=on,wait=off" \
  -object memory-backend-ram,id=mem0,size=64M \
  -device virtio-net-pci,id=net0 >"$work/qemu.log" 2>&1 &
qemu_pid=$!
for _ in $(seq 100); do [[ -S $sock ]] && break; sleep 0.05; done
[[ -S $sock ]] || { echo "QEMU did not start:"; cat "$work/qemu.log"; exit 1; }

mkdir -p "$mount"
bin/qomfs mount -s "$sock" "$mount" -o "events,log=$work/qomfs.log"

cat <<MSG
QEMU (pid $qemu_pid) is paused with its QOM tree mounted at $mount. Try, in another terminal:

  ls $mount/machine
  cat $mount/machine/type
  ls -l $mount/machine/peripheral/net0
  cat $mount/objects/mem0/policy; echo bind > $mount/objects/mem0/policy; cat $mount/objects/mem0/policy
  echo maybe > $mount/machine/hpet        # refused: write error: Invalid argument
  getfattr -d $mount/machine/hpet
  grep -r . $mount/machine/peripheral
  QMP_SOCKET=$sock bin/qom-tree /objects   # goes through the mount's QMP proxy: QEMU's socket is the mount's
  bin/qmp-shell $mount/.qmp.sock           # a QMP client of its own; try: cont, then stop
  tail -f $mount/.events                   # QEMU's greeting, then its events, one JSON line each, as they come

Press Ctrl-C to unmount and stop QEMU.
MSG
while :; do sleep 3600 & sleeper=$!; wait $sleeper; done
