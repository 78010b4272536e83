#!/usr/bin/env bash
# Writes the man pages from the --help texts of the built binary: make-man.sh BIN OUTDIR.
# One source: every option line comes from `BIN ... --help` through scripts/help2man.awk; man/*.roff adds only
# sections that are no help text (fstab and systemd for qomfs(1)).
set -euo pipefail
bin=$1 out=$2
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
version=$("$bin" --version | sed -n '1s/^qomfs (QomFs) \([^+]*\).*/\1/p')

# help NAME [SUB]: the help of that name (the binary runs under any name with --qomfs-as).
help() { "$bin" --qomfs-as "$1" "${@:2}" --help; }

# page NAME SUMMARY: the header, NAME, and the SYNOPSIS and DESCRIPTION of NAME's own help.
page() {
  local upper=${1^^}
  printf '.TH %s 1 "" "QomFs %s" "User Commands"\n.nh\n.ad l\n.SH NAME\n%s \\- %s\n' \
    "${upper//-/\\-}" "$version" "${1//-/\\-}" "$2"
  help "$1" | awk -f "$here/scripts/help2man.awk"
}

see_also() {
  local refs=() n
  for n in qomfs qom-get qom-set qom-list qom-tree qom-fuse qmp-shell qemu-ga-client; do
    [[ $n == "$1" ]] || refs+=("\\fB${n//-/\\-}\\fR(1)")
  done
  refs+=("\\fBmount.fuse3\\fR(8)" "\\fBfusermount3\\fR(1)")
  printf '.SH "SEE ALSO"\n%s\n' "$(IFS=,; echo "${refs[*]}" | sed 's/,/, /g')"
}

# The first sentence of a command's description, for its NAME line.
summary() { help "$@" | awk 'f && NF { sub(/[.:].*/, ""); print tolower(substr($0,1,1)) substr($0,2); exit } /^$/ { f = 1 }'; }

{
  page qomfs "the QOM tree of a running QEMU as a filesystem, and QEMU's QOM tools in one binary"
  for sub in mount umount; do
    help "qomfs $sub" | awk -v title="qomfs $sub" -f "$here/scripts/help2man.awk"
  done
  cat "$here/man/qomfs.roff"
  see_also qomfs
} >"$out/qomfs.1"

for name in qom-get qom-set qom-list qom-tree qom-fuse qmp-shell qemu-ga-client; do
  { page "$name" "$(summary "$name")"; see_also "$name"; } >"$out/$name.1"
done
