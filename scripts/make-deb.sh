#!/usr/bin/env bash
# make deb: artifacts/qomfs_VERSION_amd64.deb from `make install PREFIX=/usr` into a staging root; dpkg-deb only.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(cat VERSION)
root=artifacts/deb/root
rm -rf artifacts/deb && mkdir -p "$root/DEBIAN"
make -s -o build -o deps install DESTDIR="$PWD/$root" PREFIX=/usr >/dev/null
gzip -9n "$root"/usr/share/man/man1/*.1   # Debian's man pages are compressed
cat >"$root/DEBIAN/control" <<CONTROL
Package: qomfs
Version: $version
Architecture: amd64
Maintainer: QomFs <qomfs@localhost>
Depends: fuse3, libfuse3-3
Section: admin
Priority: optional
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Description: QEMU's QOM tree as a filesystem, and QEMU's QOM tools
 qomfs mounts the QOM tree of a running QEMU (mount -t fuse.qomfs, fstab),
 with drop-in qom-get, qom-set, qom-list, qom-tree, qom-fuse, qmp-shell and
 qemu-ga-client, bash completion and man pages.
CONTROL
dpkg-deb --build --root-owner-group "$root" "artifacts/qomfs_${version}_amd64.deb" >/dev/null
echo "built artifacts/qomfs_${version}_amd64.deb"
