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
  libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients libvirt-dev  # the libvirt transport: libvirtd, virsh, the headers
)

# QEMU 11 and its qemu-ga, beside Debian 12's 7.2: the tests run against both.
"$(dirname "$0")/install-modern-qemu.sh"

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ $status == installed ]] || missing+=("$p")
done

# libvirt's QEMU driver looks up its default user and group (libvirt-qemu) even when qemu.conf names others; Debian
# creates them in libvirt-daemon-system, which would pull in systemd units and polkit this machine does not run.
libvirt_user() {
  getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
  getent passwd libvirt-qemu >/dev/null ||
    useradd --system --gid libvirt-qemu --home-dir /var/lib/libvirt --no-create-home --shell /usr/sbin/nologin libvirt-qemu
}

if ((${#missing[@]} == 0)); then
  if getent passwd libvirt-qemu >/dev/null && getent group libvirt-qemu >/dev/null; then exit 0; fi
  [[ $(id -u) -eq 0 ]] || { echo "install-deps: the libvirt-qemu user is missing; run this script as root" >&2; exit 1; }
  libvirt_user
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
libvirt_user
