#!/usr/bin/env bash
# privdrop: with user = "nobody", both daemons run unprivileged except for
# CAP_NET_ADMIN; the server's file writes (allow-list, leases, socket
# removal) go through its root helper; everything still works, and SIGTERM
# still removes everything. Only root and members of control_group reach
# the control socket, never vpnd's own user, even as a member.
#
#   [c1] alice --- [srv] --- [inet]      (both as nobody)
set -e
source "$(dirname "$0")/lib.sh"
need_root
trap cleanup EXIT
CG=users	# control_group: any group will do; tests add none to /etc/group
getent group "$CG" >/dev/null || { echo "SKIP: no group $CG"; exit 77; }
CG_GID=$(getent group "$CG" | cut -d: -f3)

topo_up
client_ns 1
server_conf "state_dir = \"$T/state\"; user = \"nobody\"; group = \"nogroup\"; control_group = \"$CG\";"
out=$("$VPND" -t -c "$T/server.conf" 2>&1) || fail "vpnd -t: $out"
[[ $out == *'warning: '*'user: "nobody" is shared'*'configuration OK'* ]] || fail "vpnd -t did not warn about nobody: $out"
ok "vpnd -t: valid, exit 0, with a warning about user nobody"
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

# as USER [GROUP] CMD...: run CMD as USER (uid and gid), in no other group
# but GROUP if one is given.
as() {
	local u g; u=$(id -u "$1"); g=$(id -g "$1"); shift
	if [[ $1 == --group ]]; then
		setpriv --reuid="$u" --regid="$g" --groups="$2" "${@:3}"
	else
		setpriv --reuid="$u" --regid="$g" --clear-groups "$@"
	fi
}
# served AS...: vpnctl status as AS... succeeds; refused AS... WHY: it exits
# 1 and says WHY (the file mode: "Permission denied"; SO_PEERCRED:
# "permission denied").
served() { as "$@" "$VPNCTL" -s "$T/server.sock" status >/dev/null || fail "$* not served"; }
refused() {
	local why=${*: -1} rc=0 out
	out=$(as "${@:1:$#-1}" "$VPNCTL" -s "$T/server.sock" status 2>&1) || rc=$?
	[[ $rc == 1 && $out == *"$why"* ]] || fail "${*:1:$#-1}: rc $rc: $out (want refusal: $why)"
}
chmod 711 "$T"
[[ $(stat -c '%U %G %a' "$T/server.sock") == "root $CG 660" ]] ||
	fail "socket owner/mode $(stat -c '%U %G %a' "$T/server.sock")"
ctl_s status >/dev/null || fail "root not served"
served daemon --group "$CG_GID"
as daemon --group "$CG_GID" "$VPNCTL" -s "$T/server.sock" allow list | grep -q alice || fail "member: allow list"
refused nobody "Permission denied"			# vpnd's user, by the file mode
refused nobody --group "$CG_GID" "permission denied"	# vpnd's user as a member: SO_PEERCRED
refused daemon "Permission denied"			# not a member
chmod 666 "$T/server.sock"				# even so, SO_PEERCRED keeps them out
refused nobody "permission denied"
refused daemon "permission denied"
chmod 660 "$T/server.sock"
mallory=sha256:$(printf '%064d' 0)	# the attack: vpnd's user permits its own key
rc=0; as nobody --group "$CG_GID" "$VPNCTL" -s "$T/server.sock" allow add mallory "$mallory" 2>/dev/null || rc=$?
[[ $rc == 1 ]] && ! grep -q mallory "$T/peers.conf" || fail "vpnd's user edited the allow-list (rc $rc)"
[[ $(stat -c '%U %a' "$T/alice.sock") == "root 600" ]] || fail "client socket $(stat -c '%U %a' "$T/alice.sock")"
rc=0; out=$(as nobody "$VPNCTL" -s "$T/alice.sock" status 2>&1) || rc=$?
[[ $rc == 1 ]] || fail "client's own user got in (rc $rc: $out)"
"$VPNCTL" -s "$T/alice.sock" status >/dev/null || fail "root not served by the client"
chmod 700 "$T"
ok "control socket root:$CG 0660: root and a member served; vpnd's user refused, even as a member; others refused"

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
