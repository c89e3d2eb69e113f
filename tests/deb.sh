#!/usr/bin/env bash
# deb.sh - the Debian package: `make deb` builds it with dpkg-buildpackage
# -us -uc -b, its contents are listed and must be tests/install.list as
# Debian lays it out (unit in the systemd unit directory, man pages
# gzipped, copyright and changelog added), lintian reports no error, and
# installed with dpkg - in a throw-away overlay of / in a private mount
# namespace, so this machine's packages, users and /etc stay as they are -
# its postinst makes the system user vpnd and /etc/vpnd (0750 root:vpnd),
# the installed unit passes systemd-analyze verify, a reinstall is fine and
# a purge removes the package, /var/lib/vpnd and an empty /etc/vpnd.
# Run by .ci/run before make check (about a minute and a half here).
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { printf 'FAIL: %s\n' "$*"; exit 1; }
ok()   { printf 'ok - %s\n' "$*"; }
[[ $(id -u) == 0 ]] || fail "deb.sh needs root (dpkg -i in an overlay)"
tests/deps.sh   # the build dependencies, as make check has them
tests/deps.sh debhelper dpkg-dev lintian
T=$(mktemp -d /tmp/vpnd-deb.XXXXXX)
cleanup() { rm -rf "$T"; }
trap cleanup EXIT

start=$SECONDS
deb=$(make -s deb | tail -n 1)
[[ -f $deb ]] || fail "make deb made no .deb"
ok "make deb: ${deb#"$PWD"/} in $((SECONDS - start))s"
echo "# contents of ${deb##*/}:"
dpkg-deb -c "$deb" | sed 's/^/#   /'

unitdir=$(pkg-config --variable=systemdsystemunitdir systemd)
unitdir=${unitdir:-/lib/systemd/system}
want=$( { sed -e "s| usr/lib/systemd/system/| ${unitdir#/}/|" \
	-e 's|\(usr/share/man/man[0-9]/.*\)$|\1.gz|' tests/install.list
	echo "0644 usr/share/doc/vpnd/changelog.gz"
	echo "0644 usr/share/doc/vpnd/copyright"; } | LC_ALL=C sort -k2)
got=$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {
	m = 0; for (i = 2; i <= 10; i++) if (substr($1, i, 1) != "-") m += 2 ^ (10 - i)
	sub(/^\.\//, "", $6); printf "%04o %s\n", m, $6 }' | LC_ALL=C sort -k2)
diff -u <(echo "$want") <(echo "$got") || fail ".deb contents differ from tests/install.list"
ok "the .deb holds what make install installs ($(wc -l <<<"$got") files, modes included)"

lint=$(lintian --tag-display-limit 0 "$deb" 2>&1 | grep -v 'running with root privileges' || true)
[[ -n $lint ]] && printf '#   lintian: %s\n' "${lint//$'\n'/$'\n#   lintian: '}"
! grep -q '^E:' <<<"$lint" || fail "lintian errors"
ok "lintian: no errors ($(grep -c '^W:' <<<"$lint" || true) warnings)"

# dpkg -i, for real, on a copy-on-write view of this machine.
mkdir -p "$T/up" "$T/work" "$T/root"
cp "$deb" "$T/vpnd.deb"
cat > "$T/inside.sh" <<'INSIDE'
set -e
dpkg -i /vpnd.deb >/dev/null
getent passwd vpnd | grep -q ':/usr/sbin/nologin$' || { echo "no system user vpnd"; exit 1; }
[ "$(id -u vpnd)" -lt 1000 ] || { echo "vpnd is not a system user"; exit 1; }
[ "$(stat -c '%a %U %G' /etc/vpnd)" = "750 root vpnd" ] ||
	{ echo "/etc/vpnd: $(stat -c '%a %U %G' /etc/vpnd)"; exit 1; }
/usr/sbin/vpnd -t -c /nonexistent.conf >/dev/null 2>&1 && { echo "vpnd -t accepted a missing file"; exit 1; }
out=$(systemd-analyze verify "$1/vpnd@.service" 2>&1) && [ -z "$out" ] ||
	{ echo "verify: $out"; exit 1; }
dpkg -i /vpnd.deb >/dev/null				# reinstall / upgrade path
mkdir -p /var/lib/vpnd && touch /var/lib/vpnd/leases
dpkg --purge vpnd >/dev/null
[ ! -e /usr/sbin/vpnd ] && [ ! -e "$1/vpnd@.service" ] || { echo "purge left files"; exit 1; }
[ ! -e /etc/vpnd ] && [ ! -e /var/lib/vpnd ] || { echo "purge left /etc/vpnd or /var/lib/vpnd"; exit 1; }
echo inside-ok
INSIDE
cp "$T/inside.sh" "$T/vpnd.deb" "$T/up/"	# at / in the overlay
before=$(getent passwd vpnd || true; ls -d /etc/vpnd 2>/dev/null || true)
res=$(unshare -m --propagation private bash -c '
	set -e
	mount -t overlay overlay -o "lowerdir=/,upperdir=$1/up,workdir=$1/work" "$1/root"
	mount --rbind /dev "$1/root/dev"
	mount -t proc proc "$1/root/proc"
	chroot "$1/root" sh /inside.sh "$2"' - "$T" "$unitdir" 2>&1) || true
[[ $res == *inside-ok ]] || fail "installing the .deb: $res"
after=$(getent passwd vpnd || true; ls -d /etc/vpnd 2>/dev/null || true)
[[ $before == "$after" ]] || fail "the install reached this machine: $after"
ok "dpkg -i: system user vpnd, /etc/vpnd 750 root:vpnd, unit verified at $unitdir; reinstall; purge cleans up"
