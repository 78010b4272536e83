#!/usr/bin/env bash
# Installs, from Debian, whatever QomFs needs to build and test that is not there yet.
# Idempotent: when everything is present it only asks dpkg, which takes a fraction of a second.
set -euo pipefail

packages=(
  qemu-system-x86     # the real QEMU the tests and `make run` talk to
  qemu-guest-agent    # the real guest agent for qemu-ga-client's tests
  fuse3 libfuse3-3 libfuse3-dev   # fusermount3, the library we bind, its headers for the layout probe
  clang zlib1g-dev    # NativeAOT's native toolchain
  gcc make            # the layout probe and the build
  attr                # getfattr, used by the xattr tests
  tmux                # drives qmp-shell through a real terminal in tests
  man-db groff-base   # man -l and groff check the generated man pages in tests
  libreadline8        # qmp-shell's line editing, history and completion
  util-linux          # setpriv, for the other-uid test
  libicu72 libssl3 ca-certificates  # .NET runtime prerequisites
)

# QEMU 11 and its qemu-ga, beside Debian 12's 7.2: the tests run against both.
"$(dirname "$0")/install-modern-qemu.sh"

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ $status == installed ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing Debian packages: ${missing[*]}; run this script as root" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq </dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
