#!/bin/sh
# Install the Debian packages that vpnd's build, tests and demo need (or the
# ones named as arguments), only those missing; quiet when all are there.
pkgs="gcc make pkg-config libssl-dev libuv1-dev libconfig-dev libcmocka-dev
libmnl-dev libnftables-dev libjansson-dev libmicrohttpd-dev nftables iproute2 iputils-ping python3 python3-cryptography python3-jsonschema python3-prometheus-client curl jq openssl
conntrack libcap-ng-dev libseccomp-dev libsystemd-dev
clang libclang-rt-14-dev
procps coreutils util-linux systemd
dbus-daemon"	# test_dns: a private bus for the fake systemd-resolved
[ $# -gt 0 ] && pkgs="$*"
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages:$missing (run make deps as root)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null &&
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
