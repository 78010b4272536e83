#!/usr/bin/env bash
# Builds a Debian unstable root holding the newest QEMU and qemu-ga, so that the tests can run against a modern QEMU
# beside the distribution's own, and upstream's qmp-shell (python3-qemu-qmp), which the proxy tests drive. Its programs run on this host through the root's own loader; no chroot is needed.
# The root lives outside the clone, so every clone on this machine shares it: remove it with `rm -rf` on its path.
# Idempotent: when the root is there, its QEMU starts and qmp-shell is installed, this returns at once; a root built
# before qmp-shell was part of it gets it added.
set -euo pipefail

root=${QOMFS_MODERN_ROOT:-/var/cache/qomfs/sid-root}

# Runs one of the root's programs with the root's loader and libraries.
run_in_root() {
  "$root/lib64/ld-linux-x86-64.so.2" --library-path "$root/usr/lib/x86_64-linux-gnu:$root/lib/x86_64-linux-gnu" "$@"
}

works() {
  [[ -x $root/lib64/ld-linux-x86-64.so.2 && -x $root/usr/bin/qemu-system-x86_64 && -x $root/usr/sbin/qemu-ga ]] &&
    run_in_root "$root/usr/bin/qemu-system-x86_64" --version >/dev/null 2>&1 &&
    run_in_root "$root/usr/sbin/qemu-ga" --version >/dev/null 2>&1
}

# Installed, not merely unpacked: dpkg's status for the package says so.
has_qmp_shell() {
  [[ -f $root/usr/bin/qmp-shell ]] &&
    awk '/^Package: /{p=($2=="python3-qemu-qmp")} p && /^Status: install ok installed$/{found=1} END{exit !found}' \
      "$root/var/lib/dpkg/status"
}

# Adds qmp-shell to a root that works without it. apt and dpkg need no /proc or /dev/pts here, and the network
# through the host's resolver. Debian's mirrors may serve a frozen unstable whose Release has expired (debootstrap
# does not check that; apt does), hence no Valid-Until check. The lists are refreshed first: unstable's pool drops
# old versions within days of a build.
add_qmp_shell() {
  cp -L --remove-destination /etc/resolv.conf "$root/etc/resolv.conf"
  local apt=(chroot "$root" apt-get -qq -o Acquire::Check-Valid-Until=false -o APT::Sandbox::User=root -o Dpkg::Use-Pty=0)
  echo "install-modern-qemu: adding python3-qemu-qmp (qmp-shell) to $root" >&2
  "${apt[@]}" update </dev/null >&2
  "${apt[@]}" install -y --no-install-recommends python3-qemu-qmp </dev/null >/dev/null
  "${apt[@]}" clean # the downloaded packages and apt's caches: 170 MB the root does not need
  has_qmp_shell
}

works && has_qmp_shell && exit 0

if [[ $(id -u) -ne 0 ]]; then
  echo "install-modern-qemu: $root is missing or broken; run this script as root to build it" >&2
  exit 1
fi

# The first Debian mirror this machine already uses (not the security one, which has no unstable).
mirror() {
  {
    sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | tr ' ' '\n'
    sed -n 's/^[[:space:]]*deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]\+\).*/\2/p' \
      /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
  } | grep -v -e security -e '^$' | head -n 1 || true # a missing sources file is not an error
}

parent=$(dirname "$root")
mkdir -p "$parent"
exec 9>"$parent/.$(basename "$root").lock"
flock 9
works && has_qmp_shell && exit 0 # another run built it while this one waited
export DEBIAN_FRONTEND=noninteractive
if works; then
  add_qmp_shell
  exit
fi

url=$(mirror)
if [[ -z $url ]]; then
  echo "install-modern-qemu: no Debian mirror found in the apt sources" >&2
  exit 1
fi

if ! command -v debootstrap >/dev/null; then
  apt-get update -qq </dev/null
  apt-get install -y -qq --no-install-recommends debootstrap </dev/null >/dev/null
fi

staging=$(mktemp -d "$parent/.$(basename "$root").XXXXXX")
trap 'rm -rf "$staging"' EXIT
echo "install-modern-qemu: building $root from $url (about 50 s, 450 MB)" >&2
debootstrap --variant=minbase --include=qemu-system-x86,qemu-guest-agent,python3-qemu-qmp --exclude=qemu-system-gui \
  sid "$staging" "$url" </dev/null >"$staging.log" 2>&1 || {
  tail -n 20 "$staging.log" >&2
  rm -f "$staging.log"
  exit 1
}
rm -f "$staging.log"
rm -rf "$root"
mv "$staging" "$root"
trap - EXIT
works && has_qmp_shell || {
  echo "install-modern-qemu: $root was built but its QEMU does not start or it lacks qmp-shell" >&2
  exit 1
}
