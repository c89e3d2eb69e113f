#!/usr/bin/env bash
# cli: the command-line contract without a network. `vpnd -t` exits 0 with
# "configuration OK" or 2 with "FILE:LINE: KEY: ..."; keygen and fingerprint
# agree with the openssl command; usage errors exit 2, no daemon exits 1.
# vpnctl takes its options anywhere and checks a command's shape itself:
# a stand-in daemon records what it is sent, and a usage error exits 2
# with a usage line without contacting it.
set -e
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT
cd "$T"

say "keygen and fingerprint"
fp=$("$VPNCTL" keygen alice --dir "$T")
[[ $(stat -c %a "$T/alice.key") == 600 ]] || fail "key mode $(stat -c %a "$T/alice.key")"
want=sha256:$(openssl pkey -in "$T/alice.key" -pubout -outform DER | sha256sum | cut -d' ' -f1)
[[ $fp == "$want" ]] || fail "keygen printed $fp, openssl says $want"
[[ $("$VPNCTL" fingerprint "$T/alice.crt") == "$want" && $("$VPNCTL" fingerprint "$T/alice.key") == "$want" ]] ||
	fail "fingerprint of crt/key differs"
openssl x509 -in "$T/alice.crt" -noout -subject | grep -q "CN *= *alice" || fail "certificate CN"
! "$VPNCTL" keygen alice --dir "$T" 2>/dev/null || fail "keygen overwrote a key"
for alg in "ec -pkeyopt ec_paramgen_curve:P-256" "rsa -pkeyopt rsa_keygen_bits:2048"; do
	openssl genpkey -algorithm $alg -out "$T/k.pem" 2>/dev/null
	want=sha256:$(openssl pkey -in "$T/k.pem" -pubout -outform DER | sha256sum | cut -d' ' -f1)
	[[ $("$VPNCTL" fingerprint "$T/k.pem") == "$want" ]] || fail "fingerprint of ${alg%% *} key"
done
ok "keygen 0600 key, CN=alice cert; fingerprints match openssl for ed25519, P-256, RSA"

say "vpnd -t"
"$VPNCTL" keygen server --dir "$T" >/dev/null
printf 'peers = ();\n' > "$T/peers.conf"
cat > "$T/server.conf" <<CONF
mode = "server";
listen = "0.0.0.0:4433";
key = "server.key";
cert = "server.crt";
network = "10.8.0.0/24";
allow_list = "peers.conf";
CONF
[[ $("$VPND" -t -c "$T/server.conf") == "configuration OK" ]] || fail "valid config rejected"
check_bad() {	# check_bad LINE KEY MESSAGE-PART: the last line of server.conf is bad
	local out rc=0
	out=$("$VPND" -t -c "$T/bad.conf" 2>&1) || rc=$?
	[[ $rc == 2 ]] || fail "bad config exit $rc: $out"
	[[ $out == *"bad.conf:$1: $2: "*"$3"* ]] || fail "message '$out' lacks 'bad.conf:$1: $2: ...$3'"
}
bad() { { cat "$T/server.conf"; echo "$1"; } > "$T/bad.conf"; }
bad 'network2 = 1;';               check_bad 7 network2 ""
bad 'keepalive = "x";';            check_bad 7 keepalive ""
bad 'dead_peer_timeout = 0;';      check_bad 7 dead_peer_timeout "range"
bad 'group = "nogroup";';          check_bad 7 group "without user"
bad 'user = "no-such-user-here";'; check_bad 7 user "no such user"
sed 's|10.8.0.0/24|10.8.0.0/33|' "$T/server.conf" > "$T/bad.conf"
check_bad 5 network '"10.8.0.0/33" is not a CIDR prefix'
sed 's|server.key|missing.key|' "$T/server.conf" > "$T/bad.conf"
check_bad 3 key "missing.key"
printf 'peers = ( { name = "x"; fingerprint = "sha256:00"; } );\n' > "$T/peers.conf"
rc=0; out=$("$VPND" -t -c "$T/server.conf" 2>&1) || rc=$?
[[ $rc == 2 && $out == *peers.conf:1:*fingerprint* ]] || fail "bad allow-list: $rc $out"
mkdir "$T/sub"
bad '@include "sub"'; rc=0; out=$("$VPND" -t -c "$T/bad.conf" 2>&1) || rc=$?
[[ $rc == 2 && $out == *'bad.conf:7: @include: "sub" is a directory'* ]] ||
	fail "@include of a directory: rc $rc: $out"
ok "vpnd -t: 0 for valid, 2 with file:line: key for each error kind"

say "usage and runtime exit codes"
rc=0; "$VPND" >/dev/null 2>&1 || rc=$?; [[ $rc == 2 ]] || fail "vpnd without -c: $rc"
rc=0; "$VPNCTL" frobnicate >/dev/null 2>&1 || rc=$?; [[ $rc == 2 ]] || fail "vpnctl bad command: $rc"
rc=0; "$VPNCTL" -s "$T/none.sock" status >/dev/null 2>&1 || rc=$?; [[ $rc == 1 ]] || fail "no daemon: $rc"
[[ $("$VPND" -V) == "vpnd "* ]] || fail "vpnd -V"
ok "usage errors exit 2, no daemon exits 1"

say "vpnctl: options anywhere; usage errors exit 2 without contacting the daemon"
F=$T/fake.sock
python3 - "$F" "$T/fake.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(8)
while True:		# one request line per connection, as vpnd; answer ok
    c, _ = s.accept()
    data = b""
    while not data.endswith(b"\n"):
        d = c.recv(4096)
        if not d:
            break
        data += d
    with open(sys.argv[2], "a") as f:
        f.write(data.decode().rstrip("\n").replace("\t", " ") + "\n")
    c.sendall(b"ok\n")
    c.close()
PY
PIDS+=($!)
wait_until 10 test -S "$F" || fail "stand-in daemon did not start"
asks() {	# asks WANT ARGS...: vpnctl ARGS exits 0, the daemon got the line WANT
	local want=$1; shift
	: > "$T/fake.log"
	"$VPNCTL" "$@" >/dev/null || fail "vpnctl $*: exit $?"
	[[ $(cat "$T/fake.log") == "$want" ]] || fail "vpnctl $* sent '$(cat "$T/fake.log")', want '$want'"
}
usage_err() {	# usage_err ARGS...: exit 2 and a usage line; the daemon hears nothing
	local out rc=0
	: > "$T/fake.log"
	out=$("$VPNCTL" "$@" 2>&1) || rc=$?
	[[ $rc == 2 && $out == "vpnctl: "*"usage: vpnctl"* ]] || fail "vpnctl $*: rc $rc: $out"
	[[ ! -s $T/fake.log ]] || fail "vpnctl $* contacted the daemon: $(cat "$T/fake.log")"
}
asks "status" -s "$F" status
asks "status --json" status -s "$F" --json
asks "status --json" --json status --socket="$F"
asks "peers" peers -s "$F"
asks "peers --long" peers -l -s "$F"
asks "peers --long --json" --long peers --json -s "$F"
asks "allow list --json" allow -s "$F" list --json
asks "allow add bob $fp --address 10.8.0.9" allow add --address 10.8.0.9 bob "$fp" -s "$F"
asks "allow remove bob" allow remove bob -s "$F"
asks "kick -odd" -s "$F" kick -- -odd
asks "reload" reload -s "$F"
asks "metrics" metrics -s "$F"
usage_err -s "$F" kick
usage_err -s "$F" kick alice bob
usage_err -s "$F" allow add bob
usage_err -s "$F" allow add bob "$fp" extra
usage_err -s "$F" allow add bob "$fp" --address
usage_err -s "$F" allow remove
usage_err -s "$F" allow remove alice bob
usage_err -s "$F" allow
usage_err -s "$F" allow frob
usage_err -s "$F" status extra
usage_err -s "$F" status --address 10.8.0.9
usage_err -s "$F" kick --json alice
usage_err -s "$F" status -l
usage_err -s "$F" allow list --long
usage_err -s "$F" reload now
usage_err -s "$F" metrics --json
usage_err -s "$F" metrics now
usage_err -s "$F" keygen bob --dir "$T"
usage_err -s "$F" --bogus status
usage_err -s "$F" status --json=1
usage_err status -s
usage_err -s "$F"
rc=0; out=$("$VPNCTL" -s /nonexistent kick 2>&1) || rc=$?
[[ $rc == 2 && $out == *"usage: vpnctl [-s SOCKET] kick NAME"* && $out != *nonexistent* ]] ||
	fail "vpnctl -s /nonexistent kick: rc $rc: $out"
rc=0; out=$("$VPNCTL" status -s "$T/none.sock" 2>&1) || rc=$?
[[ $rc == 1 && $out == "vpnctl: $T/none.sock: No such file or directory (is vpnd running?)" ]] ||
	fail "-s after the command: rc $rc: $out"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$T/stale.sock"
rc=0; out=$("$VPNCTL" -s "$T/stale.sock" peers 2>&1) || rc=$?
[[ $rc == 1 && $out == "vpnctl: $T/stale.sock: Connection refused (vpnd is not running: the socket is stale)" ]] ||
	fail "stale socket: rc $rc: $out"
"$VPNCTL" keygen --dir "$T" bob >/dev/null && [[ -f $T/bob.key ]] || fail "keygen --dir before NAME"
[[ $("$VPNCTL" --version) == "vpnctl "* && $("$VPNCTL" -V) == "vpnctl "* ]] || fail "vpnctl --version"
"$VPNCTL" --help | grep -q "^usage: vpnctl" && "$VPNCTL" -h | grep -q "kick NAME" || fail "vpnctl --help"
"$VPNCTL" --help | grep -q "peers \[-l\] \[--json\]" || fail "vpnctl --help lacks peers -l"
ok "vpnctl: options before, after and between the words; shape errors exit 2 unsent; --help, --version; an unreachable socket named with its cause"

say "docs/protocol.md gives the helper's message cap that daemon/priv.c has"
src=$E2E_DIR/../..
mib=$(sed -n 's/^#define PRIV_MAX_MSG (\([0-9]*\)u << 20).*/\1/p' "$src/daemon/priv.c")
[[ -n $mib ]] || fail "PRIV_MAX_MSG not found in daemon/priv.c"
n=$(grep -c 'PRIV_MAX_MSG' "$src/docs/protocol.md") || fail "protocol.md does not name PRIV_MAX_MSG"
[[ $(grep 'PRIV_MAX_MSG' "$src/docs/protocol.md" | grep -c " $mib MiB") == "$n" ]] ||
	fail "protocol.md: $(grep 'PRIV_MAX_MSG' "$src/docs/protocol.md" | grep -v " $mib MiB")"
ok "PRIV_MAX_MSG is $mib MiB in the code and in each of its $n mentions in protocol.md"
