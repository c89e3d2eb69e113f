#!/bin/sh
# Install the Debian packages the benchmark needs, only those missing, with
# tests/deps.sh. The packaged services (openvpn, ocserv) are not started:
# the benchmark runs its own, in its own namespaces.
# iperf3 asks whether to start a daemon at install; say no.
echo 'iperf3 iperf3/start_daemon boolean false' | debconf-set-selections 2>/dev/null || true
exec "$(dirname "$0")/../tests/deps.sh" iperf3 openvpn wireguard-go wireguard-tools \
	ocserv openconnect iproute2 iputils-ping nftables openssl jq python3 procps util-linux \
	gnuplot-nox linux-perf
