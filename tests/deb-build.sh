#!/bin/sh
# deb-build.sh (make deb): build the Debian package from a copy of the tree
# in build/deb/vpnd (dpkg-buildpackage writes beside the source tree, and
# would clean bin/ and build/ in the work tree); the .deb ends up in
# build/deb/. Prints the path of the .deb.
set -e
cd "$(dirname "$0")/.."
top=$(pwd)
out=$top/build/deb
rm -rf "$out"
mkdir -p "$out/vpnd"
# the tree as it is, without builds, git's data or other output
tar -C "$top" --exclude=./build --exclude=./bin --exclude=./.git \
	--exclude='./*.deb' -cf - . | tar -C "$out/vpnd" -xf -
(cd "$out/vpnd" && dpkg-buildpackage -us -uc -b) > "$out/build.log" 2>&1 || {
	tail -n 40 "$out/build.log" >&2
	echo "deb: dpkg-buildpackage failed; log in $out/build.log" >&2
	exit 1
}
ls "$out"/vpnd_*.deb
