#!/usr/bin/env bash
# restart: a client whose server restarts (SIGTERM, then kill -9) comes back
# by itself within 15 s with the same pool address, kept in state_dir; a
# client with servers = [...] fails over in order when the first is down.
#
#   [c1] 198.18.1.2 --- 198.18.1.1 [srv] --- [inet]
set -e
source "$(dirname "$0")/lib.sh"
need_root
trap cleanup EXIT

topo_up
client_ns 1
client_ns 2
server_conf "state_dir = \"$T/state\";"
client_conf alice 1
client_conf bob 2
start_server
allow alice "$("$VPNCTL" fingerprint "$T/alice.crt")"
allow bob "$("$VPNCTL" fingerprint "$T/bob.crt")"
# bob first, so alice's pool address is not simply the first one
start_client bob 2
wait_until 15 client_up bob || fail "bob not up"
start_client alice 1
wait_until 15 client_up alice || fail "alice not up"
addr=$(client_addr alice)
[[ $addr != 10.8.0.2 ]] || fail "alice got the first address; the test needs her on another"
grep -q "$addr" "$T/state/leases" || fail "lease not written to state_dir"
ok "alice has $addr, recorded in state_dir/leases"

back() {	# back LABEL: alice reconnects with $addr within 15 s, traffic flows
	local t0=$1
	wait_until 15 eval '[[ $(grep -c "connected to" "$T/alice.log") -gt $n ]]' ||
		fail "$2: alice did not reconnect within 15 s"
	wait_until 2 client_up alice || fail "$2: alice not up"
	[[ $(client_addr alice) == "$addr" ]] || fail "$2: address $(client_addr alice), want $addr"
	wait_until 5 in_ns "$TAG-c1" ping -c 1 -W 1 "$INET_IP" || fail "$2: no traffic"
	ok "$2: alice back with $addr after $(( $(now_ms) - t0 )) ms"
}

say "SIGTERM and restart, alice started first this time"
n=$(grep -c "connected to" "$T/alice.log")
stop_pid "$SERVER_PID"
[[ $STOP_RC == 0 ]] || fail "server exit $STOP_RC"
t0=$(now_ms)
stop_pid "$PID_bob"
start_server
back "$t0" "SIGTERM"

say "kill -9 and restart"
n=$(grep -c "connected to" "$T/alice.log")
kill -KILL "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
t0=$(now_ms)
start_server
back "$t0" "kill -9"

say "servers = [ down, up ]: fail over in order"
stop_pid "$PID_alice"
sed -i 's/^server = "\(.*\)";/servers = [ "198.18.1.1:4499", "\1" ];/' "$T/alice.conf"
start_client alice 1
wait_until 15 client_up alice || fail "no failover to the second server"
grep -q "cannot connect to 198.18.1.1:4499" "$T/alice.log" || fail "first server not tried first"
[[ $(ctl_c alice status --json | jq -r .server) == 198.18.1.1:4433 ]] || fail "not on the second server"
ok "failed over from 198.18.1.1:4499 to 198.18.1.1:4433"
