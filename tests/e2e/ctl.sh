#!/usr/bin/env bash
# ctl: nobody can hold the control socket. A connection that has not sent
# its whole request line within 5 s is closed, and vpnctl is answered all
# the while; SIGTERM with a half-written request open still ends the
# daemon, exit 0, within 2 s. The server and the client alike.
#
#   [c1] alice --- [srv]          (alice need not get in)
set -e
source "$(dirname "$0")/lib.sh"
need_root
trap cleanup EXIT

# half_open SOCKET OUT: connect, write half a request, wait for EOF (30 s
# at most); OUT gets "sent" once the bytes are out, then "eof MS" or "timeout".
half_open() {
	python3 - "$1" "$2" <<-'PY' &
	import socket, sys, time
	s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
	s.connect(sys.argv[1])
	t0 = time.monotonic()
	s.sendall(b"allow\tadd\tmal")
	with open(sys.argv[2], "w") as f:
	    f.write("sent\n"); f.flush()
	    s.settimeout(30)
	    try:
	        while s.recv(4096):
	            pass
	        f.write("eof %d\n" % ((time.monotonic() - t0) * 1000))
	    except socket.timeout:
	        f.write("timeout\n")
	PY
	PIDS+=($!)
}
sent() { grep -q '^sent' "$1"; }
ended() { grep -qE '^(eof|timeout)' "$1"; }

topo_up
client_ns 1
server_conf
client_conf alice 1
start_server
start_client alice 1
wait_until 10 test -S "$T/alice.sock" || fail "client did not start"

say "a half-written request is closed after 5 s; vpnctl is served meanwhile"
half_open "$T/server.sock" "$T/idle"
wait_until 5 sent "$T/idle" || fail "helper did not connect"
t0=$(now_ms)
ctl_s status >/dev/null || fail "vpnctl status while a connection idles"
lat=$(( $(now_ms) - t0 ))
(( lat < 3000 )) || fail "vpnctl took $lat ms while a connection idles"	# not held for its 5 s
wait_until 20 ended "$T/idle" || fail "idle connection never closed"
read -r what idle_ms < <(tail -n 1 "$T/idle")
[[ $what == eof ]] && (( idle_ms >= 4500 && idle_ms < 15000 )) ||
	fail "idle connection: $what after ${idle_ms:-?} ms, want EOF after 5 s"
ok "idle connection closed after $idle_ms ms (deadline 5 s); vpnctl answered in $lat ms"

for who in server alice; do
	say "SIGTERM $who with a half-written request open"
	if [[ $who == server ]]; then sock=$T/server.sock pid=$SERVER_PID; else sock=$T/alice.sock pid=$PID_alice; fi
	half_open "$sock" "$T/term-$who"
	wait_until 5 sent "$T/term-$who" || fail "helper did not connect to the $who"
	"$VPNCTL" -s "$sock" status >/dev/null	# a turn of its loop: the connection is accepted
	t0=$(now_ms)
	kill -TERM "$pid"
	wait_pid_gone "$pid" 10 || fail "$who still running 10 s after SIGTERM"
	ms=$(( $(now_ms) - t0 ))
	rc=0; wait "$pid" || rc=$?
	[[ $rc == 0 ]] || fail "$who exit $rc"
	(( ms < 2000 )) || fail "$who took $ms ms to stop"
	wait_until 5 ended "$T/term-$who" || fail "connection to the $who not closed"
	grep -q '^eof' "$T/term-$who" || fail "connection to the $who: $(tail -n 1 "$T/term-$who")"
	[[ ! -e $sock ]] || fail "$who left its control socket"
	ok "$who: exit 0 in $ms ms with a half-written request open; the connection got EOF"
done
