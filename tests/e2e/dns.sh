#!/usr/bin/env bash
# timeout: 90
# dns: the client applies the server's dns and dns_search to its tunnel
# device through resolvconf, and takes them back.
#  1. Up: /etc/resolv.conf (the client's own) has the pushed servers and
#     search domain, not the routing-only one; resolvconf was called as
#     wg-quick calls it (-a tun.vpn0 -m 0 -x).
#  2. The server restarts without dns: the reconnected client removes the
#     record (-d tun.vpn0 -f); with dns again, it is back.
#  3. SIGTERM: the record goes, resolv.conf is as it was, exit 0.
#  4. Without resolvconf (and no resolved): one log line, the tunnel up.
#  2b. A reload that changes dns and dns_search: applied in place, no
#     reconnect.
#  5. With user set the worker cannot exec resolvconf (seccomp): its
#     privileged helper applies them, as root, and removes them at stop.
# The host's resolver is never touched: the client runs in a mount
# namespace of its own (unshare -m) where a temp file is bind-mounted over
# /etc/resolv.conf and a temp directory over /usr/local/sbin, holding a
# stand-in resolvconf that keeps openresolv's per-interface records (the
# real openresolv is not installed: it would take over the host's
# resolv.conf). DBUS_SYSTEM_BUS_ADDRESS points nowhere, so the client does
# not see a systemd-resolved the host may run.
#
#   [c1: own mount ns]  c0 198.18.1.2 ---- s1 198.18.1.1 [srv] ---- [inet]
#   /etc/resolv.conf <- $T/resolv.conf     dns = 10.8.0.1, fd00:8::1
#   /usr/local/sbin  <- $T/sbin            dns_search = corp.example, ~lab.example
set -e
source "$(dirname "$0")/lib.sh"
need_root
trap cleanup EXIT
C=$TAG-c1
host_resolv=$(sha256sum /etc/resolv.conf 2>/dev/null || true)

mkdir -p "$T/sbin" "$T/records"
printf '# the client namespace'"'"'s own resolv.conf\nnameserver 198.18.1.53\n' > "$T/resolv.base"
cp "$T/resolv.base" "$T/resolv.conf"
cat > "$T/sbin/resolvconf" <<-SH
	#!/bin/sh
	# stand-in for openresolv's resolvconf: one record per interface,
	# /etc/resolv.conf = the base file and the records, written in place
	echo "\$*" >> "$T/resolvconf.calls"
	case "\$1" in
	-a) cat > "$T/records/\$2" ;;
	-d) rm -f "$T/records/\$2" ;;
	*) exit 2 ;;
	esac
	cat "$T/resolv.base" "$T/records/"* > /etc/resolv.conf 2>/dev/null || true
SH
chmod 0755 "$T/sbin/resolvconf"
: > "$T/resolvconf.calls"

DNS_LINES='dns = [ "10.8.0.1", "fd00:8::1" ]; dns_search = [ "corp.example", "~lab.example" ];'
topo_up
client_ns 1
server_conf "$DNS_LINES"
client_conf alice 1
start_server
allow alice "$("$VPNCTL" fingerprint "$T/alice.crt")"

# start_alice_ns [resolvconf]: alice in her own mount namespace
start_alice_ns() {
	local bind=""
	[[ ${1:-} == resolvconf ]] && bind="mount --bind $T/sbin /usr/local/sbin &&"
	bg_ns "$C" env DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/no-bus" \
		unshare -m --propagation private sh -c \
		"mount --bind $T/resolv.conf /etc/resolv.conf && $bind exec $VPND -c $T/alice.conf" \
		>>"$T/alice.log" 2>&1
	CLIENT_PID=$!
	PIDS+=("$CLIENT_PID")
}
resolv_has() { grep -qx "$1" "$T/resolv.conf"; }
called() { grep -qx -- "$1" "$T/resolvconf.calls"; }
connects() { grep -c "connected to 198.18.1.1" "$T/alice.log" || true; }
restart_server() {
	stop_pid "$SERVER_PID"
	server_conf "$1"
	start_server
}

say "1. up: the pushed resolvers are in the client's resolv.conf"
t0=$(now_ms)
start_alice_ns resolvconf
wait_until 15 client_up alice || fail "alice not up"
wait_until 5 resolv_has "nameserver 10.8.0.1" || fail "no nameserver 10.8.0.1: $(cat "$T/resolv.conf")"
resolv_has "nameserver fd00:8::1" || fail "no nameserver fd00:8::1"
resolv_has "search corp.example" || fail "no search corp.example (routing-only left out)"
! grep -q lab.example "$T/resolv.conf" || fail "routing-only domain written to resolv.conf"
resolv_has "nameserver 198.18.1.53" || fail "the namespace's own resolver lost"
called "-a tun.vpn0 -m 0 -x" || fail "resolvconf calls: $(cat "$T/resolvconf.calls")"
grep -q "dns vpn0: 2 servers, 2 domains, all names, via resolvconf" "$T/alice.log" ||
	fail "no dns log line"
ok "nameserver 10.8.0.1, fd00:8::1, search corp.example via resolvconf -a tun.vpn0 -m 0 -x"

say "2. a server that no longer pushes dns: removed on reconnect; back with it"
n=$(connects)
restart_server ""
wait_until 20 eval '(( $(connects) > n ))' && wait_until 15 client_up alice || fail "no reconnect"
wait_until 5 eval '! resolv_has "nameserver 10.8.0.1"' || fail "record kept: $(cat "$T/resolv.conf")"
called "-d tun.vpn0 -f" || fail "no resolvconf -d: $(cat "$T/resolvconf.calls")"
cmp -s "$T/resolv.conf" "$T/resolv.base" || fail "resolv.conf not as before: $(cat "$T/resolv.conf")"
grep -q "dns vpn0: the server pushes no resolvers now: removed from resolvconf" "$T/alice.log" ||
	fail "no removal log line"
n=$(connects)
restart_server "$DNS_LINES"
wait_until 20 eval '(( $(connects) > n ))' && wait_until 15 client_up alice || fail "no reconnect (2)"
wait_until 5 resolv_has "nameserver 10.8.0.1" || fail "not applied again"
ok "removed when the server stopped pushing dns, applied again when it did"

say "2b. a reload that changes dns: applied in place, no reconnect"
n=$(connects)
server_conf 'dns = [ "10.8.0.9" ]; dns_search = [ "new.example" ];'
out=$(ctl_s reload) || fail "reload: $out"
grep -q "sent to 1 connected peer(s): dns, dns_search" <<<"$out" || fail "reload reply: $out"
wait_until 10 resolv_has "nameserver 10.8.0.9" || fail "new resolver not applied: $(cat "$T/resolv.conf")"
resolv_has "search new.example" || fail "new search domain not applied"
! resolv_has "nameserver 10.8.0.1" || fail "old resolver kept"
(( $(connects) == n )) || fail "the client reconnected for a DNS change"
ok "reload: dns 10.8.0.9 and search new.example applied without a reconnect"

say "3. SIGTERM: the record goes with the tunnel"
stop_pid "$CLIENT_PID"
[[ $STOP_RC == 0 ]] || fail "client exit $STOP_RC"
cmp -s "$T/resolv.conf" "$T/resolv.base" || fail "resolv.conf after stop: $(cat "$T/resolv.conf")"
[[ -z $(ls "$T/records") ]] || fail "records left: $(ls "$T/records")"
[[ $(tail -n 1 "$T/resolvconf.calls") == "-d tun.vpn0 -f" ]] || fail "last call: $(tail -n 1 "$T/resolvconf.calls")"
grep -q "dns vpn0: removed from resolvconf" "$T/alice.log" || fail "no removal at stop logged"
ok "client stopped: record removed, resolv.conf as it was ($(( $(now_ms) - t0 )) ms for 1-3)"

say "4. no resolvconf, no resolved: said once, tunnel up"
: > "$T/alice.log"
start_alice_ns
wait_until 15 client_up alice || fail "alice not up without resolvconf"
wait_until 5 grep -q "neither systemd-resolved nor resolvconf is here" "$T/alice.log" ||
	fail "no warning without a back-end"
wait_until 10 in_ns "$C" ping -c 1 -W 1 "$INET_IP" || fail "no ping through the tunnel"
kill -HUP "$CLIENT_PID"		# a reconnect: not said again
wait_until 20 eval '(( $(connects) >= 2 ))' && wait_until 15 client_up alice || fail "no reconnect (4)"
[[ $(grep -c "neither systemd-resolved" "$T/alice.log") == 1 ]] || fail "said more than once"
cmp -s "$T/resolv.conf" "$T/resolv.base" || fail "resolv.conf changed without resolvconf"
stop_pid "$CLIENT_PID"
[[ $STOP_RC == 0 ]] || fail "client exit $STOP_RC (4)"
ok "one warning, tunnel up, resolv.conf untouched"

say "5. user = nobody: the privileged helper applies them, as root; removed at stop"
: > "$T/alice.log"
: > "$T/resolvconf.calls"
echo 'user = "nobody"; group = "nogroup";' >> "$T/alice.conf"
start_alice_ns resolvconf
wait_until 15 client_up alice || fail "alice (nobody) not up"
# the server pushes what section 2b reloaded: 10.8.0.9, new.example
wait_until 5 resolv_has "nameserver 10.8.0.9" || fail "not applied as nobody: $(tail -3 "$T/alice.log"); calls: $(cat "$T/resolvconf.calls"); resolv: $(cat "$T/resolv.conf"); records: $(od -c "$T/records/tun.vpn0" | head -3)"
called "-a tun.vpn0 -m 0 -x" || fail "resolvconf calls: $(cat "$T/resolvconf.calls")"
grep -q "dns vpn0: 1 servers, 1 domains, all names, via resolvconf" "$T/alice.log" || fail "no dns log line (5)"
stop_pid "$CLIENT_PID"
[[ $STOP_RC == 0 ]] || fail "client exit $STOP_RC (5)"
called "-d tun.vpn0 -f" || fail "not removed at stop (5): $(cat "$T/resolvconf.calls")"
cmp -s "$T/resolv.conf" "$T/resolv.base" || fail "resolv.conf after stop (5): $(cat "$T/resolv.conf")"
ok "as nobody: applied and removed through the privileged helper (the worker cannot exec)"

[[ $(sha256sum /etc/resolv.conf 2>/dev/null || true) == "$host_resolv" ]] ||
	fail "the host's /etc/resolv.conf changed"
ok "the host's /etc/resolv.conf is as it was"
