#!/bin/sh
# packaging/deb.sh ARCH DEBVERSION [DIST]: DIST/sshalive_DEBVERSION_ARCH.deb
# from what make release put in DIST (default dist). Run from the repository
# root. Needs only dpkg-deb and coreutils; files are root:root in the package.
set -eu
arch=$1 version=$2 dist=${3:-dist}
umask 022
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
chmod 0755 "$root"
install -D -m 0755 "$dist/sshalive-linux-$arch" "$root/usr/bin/sshalive"
install -D -m 0644 "$dist/sshalive.1.gz" "$root/usr/share/man/man1/sshalive.1.gz"
install -D -m 0644 "$dist/completions/sshalive.bash" "$root/usr/share/bash-completion/completions/sshalive"
install -D -m 0644 "$dist/completions/_sshalive" "$root/usr/share/zsh/vendor-completions/_sshalive"
install -D -m 0644 "$dist/completions/sshalive.fish" "$root/usr/share/fish/vendor_completions.d/sshalive.fish"
install -D -m 0644 packaging/sshalive.service "$root/lib/systemd/system/sshalive.service"
install -D -m 0644 README.md "$root/usr/share/doc/sshalive/README.md"
install -D -m 0644 packaging/deb/copyright "$root/usr/share/doc/sshalive/copyright"
size=$(du -sk "$root" | cut -f1)
install -d -m 0755 "$root/DEBIAN"
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" packaging/deb/control >"$root/DEBIAN/control"
install -m 0755 packaging/deb/postinst packaging/deb/postrm "$root/DEBIAN/"
dpkg-deb --build --root-owner-group "$root" "$dist/sshalive_${version}_$arch.deb" >/dev/null
echo "$dist/sshalive_${version}_$arch.deb"
