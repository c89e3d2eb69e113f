#!/usr/bin/env bash
# privdrop: with user = "nobody", both daemons run unprivileged except for
# CAP_NET_ADMIN; the server's file writes (allow-list, leases, socket
# removal) go through its root helper; everything still works, and SIGTERM
# still removes everything. Nobody but root reaches the control socket.
#
#   [c1] alice --- [srv] --- [inet]      (both as nobody)
set -e
source "$(dirname "$0")/lib.sh"
need_root
trap cleanup EXIT

topo_up
client_ns 1
server_conf "state_dir = \"$T/state\"; user = \"nobody\"; group = \"nogroup\";"
client_conf alice 1
echo 'user = "nobody";' >> "$T/alice.conf"
chmod 600 "$T/peers.conf"
start_server
nobody=$(id -u nobody)
status_of() { awk -v k="$2:" '$1 == k { $1 = ""; print substr($0, 2) }' "/proc/$1/status"; }
[[ $(status_of "$SERVER_PID" Uid) == "$nobody $nobody $nobody $nobody" ]] ||
	fail "server uid: $(status_of "$SERVER_PID" Uid)"
[[ $(status_of "$SERVER_PID" CapEff) == 0000000000001000 && $(status_of "$SERVER_PID" CapPrm) == 0000000000001000 ]] ||
	fail "server caps: eff $(status_of "$SERVER_PID" CapEff) prm $(status_of "$SERVER_PID" CapPrm)"
[[ $(status_of "$SERVER_PID" NoNewPrivs) == 1 ]] || fail "no_new_privs not set"
[[ $(status_of "$SERVER_PID" Seccomp) == 2 ]] || fail "no seccomp filter"
helper=$(pgrep -P "$SERVER_PID" -x vpnd-priv) || fail "no privileged helper"
[[ $(status_of "$helper" Uid | cut -d' ' -f1) == 0 ]] || fail "helper not root"
ok "server runs as nobody with CAP_NET_ADMIN only, no_new_privs, seccomp; helper $helper stays root"

allow alice "$("$VPNCTL" fingerprint "$T/alice.crt")"
grep -q 'name = "alice"' "$T/peers.conf" || fail "allow add did not reach the 0600 root file"
[[ $(stat -c '%U %a' "$T/peers.conf") == "root 600" ]] || fail "file owner/mode changed: $(stat -c '%U %a' "$T/peers.conf")"
start_client alice 1
wait_until 15 client_up alice && wait_until 10 on_dtls alice || fail "alice not up on dtls"
[[ $(status_of "$PID_alice" Uid | cut -d' ' -f1) == "$nobody" && $(status_of "$PID_alice" CapEff) == 0000000000001000 &&
   $(status_of "$PID_alice" Seccomp) == 2 ]] ||
	fail "client not dropped"
in_ns "$TAG-c1" ping -c 2 -i 0.2 -W 2 "$INET_IP" >/dev/null || fail "no traffic"
wait_until 5 grep -q 10.8.0.2 "$T/state/leases" || fail "lease not written"
ok "allow add through the helper, client as nobody on dtls, lease written"

ctl_s allow remove alice
wait_until 2 grep -q "removed from the allow-list" "$T/alice.log" || fail "revocation"
! grep -q 'name = "alice"' "$T/peers.conf" || fail "remove not written"
chmod 644 "$T/peers.conf"
printf 'peers = ( { name = "alice"; fingerprint = "%s"; } );\n' "$("$VPNCTL" fingerprint "$T/alice.crt")" > "$T/peers.conf"
chmod 600 "$T/peers.conf"
kill -HUP "$SERVER_PID"
wait_until 15 client_up alice || fail "SIGHUP reload as nobody"
ok "allow remove and SIGHUP reload work unprivileged"

as() { local u; u=$(id -u "$1"); shift; setpriv --reuid="$u" --regid="$u" --clear-groups "$@"; }
chmod 711 "$T"
as nobody "$VPNCTL" -s "$T/server.sock" status >/dev/null || fail "vpnd's own user cannot use vpnctl"
[[ $(stat -c %a "$T/server.sock") == 600 ]] || fail "socket mode $(stat -c %a "$T/server.sock")"
rc=0; as daemon "$VPNCTL" -s "$T/server.sock" status >/dev/null 2>&1 || rc=$?
[[ $rc == 1 ]] || fail "another user got in through mode 0600 (rc $rc)"
chmod 666 "$T/server.sock"	# even so, SO_PEERCRED keeps others out
rc=0; out=$(as daemon "$VPNCTL" -s "$T/server.sock" status 2>&1) || rc=$?
[[ $rc == 1 && $out == *"permission denied"* ]] || fail "SO_PEERCRED let another user in (rc $rc: $out)"
chmod 600 "$T/server.sock"
chmod 700 "$T"
ok "control socket: root and vpnd's user get in; others are refused by mode and by SO_PEERCRED"

stop_pid "$PID_alice"
[[ $STOP_RC == 0 ]] || fail "client exit $STOP_RC"
! in_ns "$TAG-c1" ip link show vpn0 >/dev/null 2>&1 || fail "client TUN left"
[[ -z $(in_ns "$TAG-c1" ip -4 route show | grep -E 'vpn0|^198.18.1.1 ') ]] || fail "client routes left"
stop_pid "$SERVER_PID"
[[ $STOP_RC == 0 ]] || fail "server exit $STOP_RC"
! in_ns "$NS_S" nft list table ip vpnd >/dev/null 2>&1 || fail "nft table left"
! in_ns "$NS_S" ip link show vpn0 >/dev/null 2>&1 || fail "server TUN left"
[[ ! -e $T/server.sock ]] || fail "control socket left"
[[ $(in_ns "$NS_S" cat /proc/sys/net/ipv4/ip_forward) == 0 ]] || fail "ip_forward not restored"
! kill -0 "$helper" 2>/dev/null || fail "helper still running"
ok "SIGTERM as nobody: TUN, routes, table, socket removed, forwarding restored, helper gone"
