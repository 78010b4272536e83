#!/usr/bin/env bash
# Builds a Debian unstable root holding the newest QEMU and qemu-ga, so that the tests can run against a modern QEMU
# beside the distribution's own. Its programs run on this host through the root's own loader; no chroot is needed.
# The root lives outside the clone, so every clone on this machine shares it: remove it with `rm -rf` on its path.
# Idempotent: when the root is there and its QEMU starts, this returns at once.
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

works && exit 0

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
works && exit 0 # another run built it while this one waited

url=$(mirror)
if [[ -z $url ]]; then
  echo "install-modern-qemu: no Debian mirror found in the apt sources" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if ! command -v debootstrap >/dev/null; then
  apt-get update -qq </dev/null
  apt-get install -y -qq --no-install-recommends debootstrap </dev/null >/dev/null
fi

staging=$(mktemp -d "$parent/.$(basename "$root").XXXXXX")
trap 'rm -rf "$staging"' EXIT
echo "install-modern-qemu: building $root from $url (about 40 s, 410 MB)" >&2
debootstrap --variant=minbase --include=qemu-system-x86,qemu-guest-agent --exclude=qemu-system-gui \
  sid "$staging" "$url" </dev/null >"$staging.log" 2>&1 || {
  tail -n 20 "$staging.log" >&2
  rm -f "$staging.log"
  exit 1
}
rm -f "$staging.log"
rm -rf "$root"
mv "$staging" "$root"
trap - EXIT
works || {
  echo "install-modern-qemu: $root was built but its QEMU does not start" >&2
  exit 1
}
