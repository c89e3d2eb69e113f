#!/usr/bin/env bash
# load8: eight clients, each in its own namespace, transfer at the same time
# through one server; every transfer arrives intact.
#
#   [c1..c8] 198.18.N.2 --- 198.18.N.1 [srv] --- [inet]
# timeout: 240
set -e
source "$(dirname "$0")/lib.sh"
need_root
trap cleanup EXIT

topo_up
server_conf
start_server
xfer_serve
for n in 1 2 3 4 5 6 7 8; do
	client_ns $n
	client_conf "c$n" $n
	allow "c$n" "$("$VPNCTL" fingerprint "$T/c$n.crt")"
	start_client "c$n" $n
done
for n in 1 2 3 4 5 6 7 8; do
	wait_until 20 client_up "c$n" || fail "c$n not up"
done
wait_until 10 eval '[[ $(ctl_s peers --json | jq "[.[] | select(.transport == \"dtls\")] | length") == 8 ]]' ||
	fail "not all on dtls"
ok "8 clients up on dtls"

head -c 8000000 /dev/urandom > "$T/blob.8000000"
t0=$(now_ms)
pids=()
for n in 1 2 3 4 5 6 7 8; do
	( upload "c$n" $n 8000000 ) > "$T/up$n.out" 2>&1 &
	pids+=($!)
done
for n in 1 2 3 4 5 6 7 8; do
	wait "${pids[$((n - 1))]}" || { cat "$T/up$n.out"; fail "c$n transfer failed"; }
done
ok "8 concurrent 8 MB uploads intact, $(( $(now_ms) - t0 )) ms in all"
