#!/bin/sh
# Install the Debian packages the benchmark needs, only those missing;
# quiet when everything is there already. The packaged services
# (openvpn, ocserv) are not started: the benchmark runs its own, in its
# own namespaces.
pkgs="iperf3 openvpn wireguard-go wireguard-tools ocserv openconnect
iproute2 iputils-ping nftables openssl jq python3 procps util-linux"
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "bench-deps: missing Debian packages:$missing (run make bench-deps as root)" >&2
	exit 1
fi
echo "bench-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# iperf3 asks whether to start a daemon; say no.
echo 'iperf3 iperf3/start_daemon boolean false' | debconf-set-selections 2>/dev/null || true
{ apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing; } >/dev/null 2>&1 ||
	{ echo "bench-deps: apt-get install$missing failed" >&2; exit 1; }
