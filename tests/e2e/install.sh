#!/usr/bin/env bash
# install: `make install DESTDIR=... PREFIX=/usr` puts exactly the files of
# tests/install.list (with their modes) in place, the unit's ExecStart
# follows PREFIX, systemd-analyze verify accepts the installed unit with
# no complaint, its exposure (systemd-analyze security --offline) stays at
# or under 4.0, and `make uninstall` takes every file away again. No
# network namespace: this runs anywhere, and never skips.
set -e
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT
cd "$E2E_DIR/../.."
list=tests/install.list
# Install the binaries make check built, without building others.
[[ $BIN_DIR == */build/asan/bin ]] && mk=(make -s SAN=1 WERROR=1) || mk=(make -s)
D=$T/root

tree() { (cd "$1" && find . -mindepth 1 ! -type d -printf '%m %P\n' |
	awk '{ printf "%04d %s\n", $1, $2 }' | LC_ALL=C sort -k2); }

"${mk[@]}" install DESTDIR="$D" PREFIX=/usr >"$T/make.log" 2>&1 || { cat "$T/make.log"; fail "make install"; }
diff -u <(LC_ALL=C sort -k2 "$list") <(tree "$D") || fail "installed tree differs from $list"
ok "make install DESTDIR PREFIX=/usr: the $(wc -l < "$list") files of $list, modes included"

unit=$D/usr/lib/systemd/system/vpnd@.service
grep -qx 'ExecStart=/usr/sbin/vpnd -c /etc/vpnd/%i.conf' "$unit" || fail "ExecStart: $(grep ExecStart "$unit")"
grep -qx 'Type=notify' "$unit" || fail "unit is not Type=notify"
"${mk[@]}" install DESTDIR="$T/local" PREFIX=/usr/local >"$T/make.log" 2>&1 || fail "make install PREFIX=/usr/local"
grep -qx 'ExecStart=/usr/local/sbin/vpnd -c /etc/vpnd/%i.conf' \
	"$T/local/usr/local/lib/systemd/system/vpnd@.service" || fail "ExecStart does not follow PREFIX"
ok "the unit runs \$(SBINDIR)/vpnd: /usr/sbin, /usr/local/sbin"

# systemd-analyze checks the binary and man pages exist on this system:
# point ExecStart at the installed binary and MANPATH at its pages. It
# exits 0 on an unknown directive or a bad value too, so any output fails.
command -v systemd-analyze >/dev/null || fail "no systemd-analyze (tests/deps.sh installs systemd)"
mkdir "$T/unit"
sed "s|/usr/sbin/vpnd|$D/usr/sbin/vpnd|" "$unit" > "$T/unit/vpnd@.service"
out=$(MANPATH=$D/usr/share/man systemd-analyze verify "$T/unit/vpnd@.service" 2>&1) ||
	fail "systemd-analyze verify: $out"
[[ -z $out ]] || fail "systemd-analyze verify complains: $out"
ok "systemd-analyze verify: the unit, its ExecStart and its man pages, no complaint"

out=$(systemd-analyze security --offline=yes --man=no --threshold=40 \
	"$T/unit/vpnd@.service" 2>&1) || fail "systemd-analyze security over 4.0: $(tail -n 1 <<<"$out")"
for d in ProtectSystem= ProtectHome= PrivateTmp= ProtectKernelModules= \
	'RestrictAddressFamilies=~AF_PACKET' 'CapabilityBoundingSet=~CAP_SYS_ADMIN' \
	'CapabilityBoundingSet=~CAP_(DAC_*|FOWNER|IPC_OWNER)' SystemCallArchitectures= \
	'SystemCallFilter=~@mount' NoNewPrivileges= RestrictNamespaces=~user; do
	grep -F "✓ $d" <<<"$out" >/dev/null || fail "security: $d not in force: $(grep -F " $d" <<<"$out")"
done
say "$(grep 'Overall exposure' <<<"$out")"
ok "systemd-analyze security --offline: the hardening directives in force, exposure at most 4.0"

"${mk[@]}" uninstall DESTDIR="$D" PREFIX=/usr >"$T/make.log" 2>&1 || { cat "$T/make.log"; fail "make uninstall"; }
left=$(cd "$D" && find . -mindepth 1 ! -type d)
[[ -z $left ]] || fail "make uninstall left: $left"
[[ ! -e $D/usr/share/doc/vpnd ]] || fail "make uninstall left share/doc/vpnd"
find "$D" -mindepth 1 -depth -type d -empty -delete
[[ -z $(ls -A "$D") ]] || fail "DESTDIR not empty: $(cd "$D" && find .)"
ok "make uninstall: every file gone, share/doc/vpnd too; only empty shared directories were left"
