#!/usr/bin/env bash
# notify: what vpnd@.service relies on, short of a running systemd (there
# is none in this container): the server and the client are started as the
# unit starts them - NOTIFY_SOCKET set, JOURNAL_STREAM set, the unit's
# CapabilityBoundingSet and NoNewPrivileges (setpriv), its LimitNOFILE
# (prlimit) - with user = "nobody". The server sends READY=1 only once its
# listener, TUN device and NAT table are up, STATUS= with the peer count as
# peers come and go, RELOADING=1 then READY=1 around a SIGHUP and a vpnctl
# reload and STOPPING=1 at shutdown; the client sends READY=1, STATUS= with
# its state and STOPPING=1; every stderr line carries its <N>
# priority for the journal.
#
#   [c1] alice --- [srv] --- [inet]
set -e
source "$(dirname "$0")/lib.sh"
need_root
trap cleanup EXIT
command -v setpriv >/dev/null && command -v prlimit >/dev/null || fail "no setpriv/prlimit (util-linux)"
unit=$E2E_DIR/../../systemd/vpnd@.service

# The unit's bounding set, as setpriv wants it: "+net_admin,+setuid,...".
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tr 'A-Z ' 'a-z\n' | sed 's/^cap_/+/' | paste -sd,)
nofile=$(sed -n 's/^LimitNOFILE=//p' "$unit")
[[ $caps == *+net_admin* && $nofile -ge 65536 ]] || fail "unit: caps '$caps', LimitNOFILE '$nofile'"
# LimitNOFILE sets soft and hard; a container without CAP_SYS_RESOURCE
# cannot raise its hard limit, so the hard one is capped at ours, and the
# soft one starts low, as the test is that vpnd raises it to the hard one.
hard=$(ulimit -Hn)
[[ $hard == unlimited || $hard -ge $nofile ]] && hard=$nofile
[[ $hard -ge 4096 ]] || fail "hard RLIMIT_NOFILE $hard: too low to test"
as_unit() {	# NAME SOCKET -- command: a daemon started the way the unit starts it
	local out=$T/$1.notify sock=$2; shift 2
	python3 "$E2E_DIR/notify.py" "$sock" "$out" & PIDS+=("$!")
	wait_until 10 grep -q LISTENING "$out" || fail "notify listener $sock"
	UNIT_CMD=(env NOTIFY_SOCKET="$sock" JOURNAL_STREAM=8:12345
		prlimit --nofile=1024:"$hard" setpriv --no-new-privs --bounding-set="-all,$caps" "$@")
}
msgs() { grep -v LISTENING "$T/$1.notify" | tr '\n' '|'; }

topo_up
client_ns 1
chmod 711 "$T"		# nobody reaches the notify socket, as /run/systemd/notify
server_conf "state_dir = \"$T/state\"; user = \"nobody\"; group = \"nogroup\";"
client_conf alice 1
echo 'user = "nobody";' >> "$T/alice.conf"

as_unit server "$T/srv.notify.sock" -- "$VPND" -c "$T/server.conf"
bg_ns "$NS_S" "${UNIT_CMD[@]}" >>"$T/server.log" 2>&1
SERVER_PID=$!; PIDS+=("$SERVER_PID")
wait_until 30 grep -qx READY=1 "$T/server.notify" || fail "no READY=1 from the server: $(msgs server)"
# READY=1 said it: all of these must already be true.
in_ns "$NS_S" ss -Htln 'sport = :4433' | grep -q LISTEN || fail "READY=1 before the TCP listener"
in_ns "$NS_S" ss -Huln 'sport = :4433' | grep -q 4433 || fail "READY=1 before the UDP listener"
in_ns "$NS_S" ip link show vpn0 >/dev/null 2>&1 || fail "READY=1 before the TUN device"
in_ns "$NS_S" nft list table ip vpnd >/dev/null 2>&1 || fail "READY=1 before the NAT table"
[[ $(msgs server) == 'STATUS=0 peers connected|READY=1|' ]] || fail "server start-up messages: $(msgs server)"
ok "server: STATUS=0 peers connected, then READY=1 with listeners, vpn0 and NAT up"

st() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
helper=$(pgrep -P "$SERVER_PID" -x vpnd-priv) || fail "no privileged helper"
[[ $(st "$helper" CapBnd) == 00000000000015c1 && $(st "$helper" NoNewPrivs) == 1 ]] ||
	fail "helper: CapBnd $(st "$helper" CapBnd) NoNewPrivs $(st "$helper" NoNewPrivs)"
[[ $(st "$SERVER_PID" Uid) == "$(id -u nobody)" && $(st "$SERVER_PID" CapEff) == 0000000000001000 ]] ||
	fail "worker: uid $(st "$SERVER_PID" Uid) CapEff $(st "$SERVER_PID" CapEff)"
soft=$(awk '/^Max open files/ { print $4 }' "/proc/$SERVER_PID/limits")
[[ $soft == "$hard" ]] || fail "soft RLIMIT_NOFILE $soft, hard $hard"
ok "within the unit's bounding set (CapBnd 0x15c1) and no_new_privs: dropped to nobody, CAP_NET_ADMIN kept; soft nofile raised to the hard $hard"

allow alice "$("$VPNCTL" fingerprint "$T/alice.crt")"
as_unit alice "$T/cli.notify.sock" -- "$VPND" -c "$T/alice.conf"
bg_ns "$TAG-c1" "${UNIT_CMD[@]}" >>"$T/alice.log" 2>&1
CLIENT_PID=$!; PIDS+=("$CLIENT_PID")
wait_until 30 grep -qx READY=1 "$T/alice.notify" || fail "no READY=1 from the client: $(msgs alice)"
wait_until 30 client_up alice || fail "alice not up"
wait_until 15 grep -qx 'STATUS=1 peers connected' "$T/server.notify" || fail "no STATUS=1: $(msgs server)"
wait_until 15 grep -q '^STATUS=connected to 198.18.*, vpn0 10.8.0.[0-9]*/24$' "$T/alice.notify" ||
	fail "no client STATUS=connected: $(msgs alice)"
ok "client: READY=1 and STATUS=connected to ...; server: STATUS=1 peers connected once alice is up"

kill -HUP "$SERVER_PID"
wait_until 15 eval '[[ $(msgs server) == *"|RELOADING=1|READY=1|"* ]]' || fail "SIGHUP: $(msgs server)"
ctl_s reload >/dev/null || fail "vpnctl reload"
wait_until 15 eval '[[ $(msgs server) == *"|RELOADING=1|READY=1|RELOADING=1|READY=1|"* ]]' ||
	fail "vpnctl reload: $(msgs server)"
ok "SIGHUP and vpnctl reload: RELOADING=1 then READY=1 each"

stop_pid "$CLIENT_PID"
[[ $(msgs alice) == *"|STOPPING=1|" ]] || fail "client: no STOPPING=1 at the end: $(msgs alice)"
wait_until 20 eval '[[ $(msgs server) == *"|STATUS=0 peers connected|" ]]' || fail "no STATUS=0 after alice left: $(msgs server)"
ok "STATUS=0 peers connected once alice has gone"
say "server: $(msgs server)"

for f in server alice; do
	bad=$(grep -v '^<[2467]>[a-z]* ' "$T/$f.log" || true)
	[[ -z $bad ]] || fail "$f.log: lines without a journal priority: $bad"
done
grep -q '^<6>info ' "$T/server.log" && grep -q '^<4>warn \|^<6>info ' "$T/alice.log" || fail "no <6>info lines"
ok "JOURNAL_STREAM set: every line of both logs starts with <N> (e.g. $(head -n 1 "$T/server.log" | cut -c1-40))"
stop_pid "$SERVER_PID"
[[ $STOP_RC == 0 ]] || fail "server exit $STOP_RC"
[[ $(msgs server) == *"|STOPPING=1|" ]] || fail "server: no STOPPING=1 at the end: $(msgs server)"
ok "STOPPING=1 from the client and the server as they shut down"
