#!/usr/bin/env bash
# events: `vpnctl events` streams what happens as it happens. A peer with
# an odd (legal) name connects and two watchers, JSON and text, see it;
# allow remove shows the allow event with the caller's uid 0 and revoked;
# a watcher that connects and never reads does not hold back the others
# or the daemon, and when it reads at last it is told what it missed.
# Every JSON line is checked against docs/schema/events.json.
# timeout: 90
#
#   [c1 a.b-c_9] 198.18.1.2 --- [srv] 198.19.0.1
set -e
source "$(dirname "$0")/lib.sh"
need_root
trap cleanup EXIT
SCHEMA=$E2E_DIR/../../docs/schema/events.json
NAME=a.b-c_9

# watch FILE ARGS...: vpnctl events in the background, lines to FILE.
watch() {
	local f=$1; shift
	"$VPNCTL" -s "$T/server.sock" events "$@" > "$f" 2>&1 &
	PIDS+=($!)
}
# valid FILE: every line of FILE is an event the schema accepts.
valid() {
	python3 - "$SCHEMA" "$1" <<'PY' || fail "$1: $(cat "$1")"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
for line in open(sys.argv[2], encoding="utf-8"):
    jsonschema.validate(json.loads(line), schema)
PY
}
has() { [[ $(jq -c "select($2)" "$1" 2>/dev/null | wc -l) -ge 1 ]]; }

topo_up
client_ns 1
server_conf 'control_group = "users";'	# a member's edits carry its uid
client_conf "$NAME" 1
fp=$("$VPNCTL" fingerprint "$T/$NAME.crt")
start_server
watch "$T/w1.json" --json
watch "$T/w2.txt"
wait_until 5 eval '[[ $(wc -c < "$T/w2.txt") -ge 0 ]]'
sleep 0.2	# both watchers subscribed (they print nothing until an event)

say "a peer connects: both watchers see it, with its name"
allow "$NAME" "$fp"
bg_ns "$TAG-c1" "$VPND" -c "$T/$NAME.conf" >>"$T/$NAME.log" 2>&1	# start_client: a name fit for a variable
PIDS+=($!)
wait_until 15 client_up "$NAME" || fail "$NAME did not come up"
wait_until 5 has "$T/w1.json" ".event == \"connected\" and .name == \"$NAME\"" ||
	fail "no connected event: $(cat "$T/w1.json")"
wait_until 5 grep -q " connected name=$NAME .*fingerprint=$fp" "$T/w2.txt" ||
	fail "text watcher: $(cat "$T/w2.txt")"
has "$T/w1.json" ".event == \"allow\" and .change == \"add\" and .uid == 0 and .name == \"$NAME\"" ||
	fail "allow add without uid 0"
has "$T/w1.json" ".event == \"connected\" and .fingerprint == \"$fp\" and (.endpoint | startswith(\"198.18.1.2:\")) and .transport == \"tls\" and .address == \"10.8.0.2\"" ||
	fail "connected event fields: $(cat "$T/w1.json")"
ok "connected: $(grep -m1 '"connected"' "$T/w1.json")"
wait_until 10 has "$T/w1.json" '.event == "transport" and .to == "dtls" and .from == "tls"' ||
	fail "no transport event"
ok "transport tls -> dtls"

say "kick: the server says kicked, the client streams its own events"
ctl_c "$NAME" events --json > "$T/c.json" 2>&1 &
PIDS+=($!)
sleep 0.3
ctl_s kick "$NAME"
wait_until 10 has "$T/c.json" '.event == "disconnected"' || fail "client: no disconnected"
wait_until 15 has "$T/c.json" '.event == "connected"' || fail "client: no connected: $(cat "$T/c.json")"
has "$T/w1.json" ".event == \"kicked\" and .name == \"$NAME\" and .uid == 0" || fail "no kicked event"
valid "$T/c.json"
ok "client: $(jq -r .event "$T/c.json" | tr '\n' ' ')- valid"

say "a watcher that never reads"
python3 - "$T/server.sock" "$T/stall.go" "$T/stall.out" <<'PY' &
import json, os, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"events\t--json\n")
while not os.path.exists(sys.argv[2]):	# hold the socket, read nothing
    time.sleep(0.05)
# Read until every one of the 1000 reloads is accounted for, received or
# counted as dropped (whole lines only), or 20 s pass: a busy machine may
# take its time to send the rest, so no fixed read timeout ends it.
def settled(buf):
    n = 0
    for l in buf.split(b"\n")[1:-1]:
        if b'"event":"reload"' in l:
            n += 1
        elif b'"events_dropped"' in l:
            n += json.loads(l)["count"]
    return n >= 1000
s.settimeout(0.5)
out = b""
deadline = time.monotonic() + 20
while not settled(out) and time.monotonic() < deadline:
    try:
        b = s.recv(1 << 16)
    except socket.timeout:
        continue
    if not b:
        break
    out += b
open(sys.argv[3], "wb").write(out)
PY
STALL=$!
PIDS+=($STALL)
wait_until 5 eval '[[ $(ctl_s status --json | jq .peers_connected) == 1 ]]'
sleep 0.3
# 1000 reloads, 16 at a time: 1000 reload events, more than the stalled
# watcher's socket buffer and queue hold together (~530 lines here).
t0=$(now_ms)
python3 - "$T/server.sock" <<'PY' || fail "reloads failed"
import socket, sys, concurrent.futures
def reload(i):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.sendall(b"reload\n")
    a = s.recv(100)
    s.close()
    return a.startswith(b"ok")
with concurrent.futures.ThreadPoolExecutor(16) as ex:
    r = list(ex.map(reload, range(1000)))
sys.exit(0 if all(r) else 1)
PY
t1=$(now_ms)
wait_until 10 eval '[[ $(grep -c "\"reload\"" "$T/w1.json") -ge 1000 ]]' ||
	fail "the reading watcher got $(grep -c '"reload"' "$T/w1.json") of 1000 reload events"
ok "1000 reloads in $((t1 - t0)) ms; the reading watcher got all of them"
in_ns "$TAG-c1" ping -c 1 -W 2 10.8.0.1 >/dev/null || fail "tunnel stalled"
touch "$T/stall.go"
wait "$STALL" || true
python3 - "$T/stall.out" <<'PY' || fail "stalled watcher: $(head -c 300 "$T/stall.out")"
import json, sys
lines = open(sys.argv[1], "rb").read().decode().splitlines()
assert lines[0] == "ok", lines[:1]
ev = [json.loads(l) for l in lines[1:]]
got = sum(1 for e in ev if e["event"] == "reload")
told = sum(e["count"] for e in ev if e["event"] == "events_dropped")
print(f"stalled watcher: got {got}, told {told} dropped")
assert told > 0 and got + told == 1000, (got, told)
PY
grep '"events_dropped"' "$T/stall.out" > "$T/dropped.json"
valid "$T/dropped.json"
ok "the stalled watcher lost events, counted, and the others did not wait"

say "an edit by a member of control_group carries its uid"
chmod 711 "$T"
uid=$(id -u daemon)
setpriv --reuid="$uid" --regid="$(id -g daemon)" --groups="$(getent group users | cut -d: -f3)" \
	"$VPNCTL" -s "$T/server.sock" allow add auditme "sha256:$(printf '%064d' 7)" || fail "member's allow add"
wait_until 5 has "$T/w1.json" ".event == \"allow\" and .name == \"auditme\" and .uid == $uid" ||
	fail "allow event without the member's uid $uid: $(grep auditme "$T/w1.json")"
ok "allow add by daemon (uid $uid) recorded as uid $uid"

say "allow remove: allow (uid 0) and revoked"
n0=$(grep -c . "$T/w1.json")
ctl_s allow remove "$NAME"
wait_until 5 has "$T/w1.json" ".event == \"revoked\" and .name == \"$NAME\"" || fail "no revoked event"
has "$T/w1.json" ".event == \"allow\" and .change == \"remove\" and .uid == 0 and .name == \"$NAME\"" ||
	fail "no allow remove event with uid 0"
wait_until 5 has "$T/w1.json" ".event == \"disconnected\" and .name == \"$NAME\" and .rx_bytes > 0" ||
	fail "no disconnected event with bytes"
rv=$(jq -c "select(.event == \"revoked\" and .name == \"$NAME\") | [.transport, .endpoint]" "$T/w1.json" | tail -1)
dc=$(jq -c "select(.event == \"disconnected\" and .name == \"$NAME\") | [.transport, .endpoint]" "$T/w1.json" | tail -1)
[[ $rv == "$dc" ]] || fail "revoked says $rv, disconnected says $dc for the same session"
ok "revoked: $(grep '"revoked"' "$T/w1.json")"
wait_until 5 grep -q " revoked name=$NAME" "$T/w2.txt" || fail "text watcher: no revoked"
valid "$T/w1.json"
ok "$(grep -c . "$T/w1.json") lines valid against events.json"

say "a watcher goes when vpnctl does; the daemon stops cleanly with watchers"
stop_pid "$SERVER_PID"
[[ $STOP_RC == 0 ]] || fail "server exited $STOP_RC"
! grep -q "handles left open" "$T/server.log" || fail "handles left open"
ok "server stopped with watchers attached, nothing left open"
