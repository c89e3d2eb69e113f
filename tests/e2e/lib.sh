# lib.sh - shared by the end-to-end tests and the demo: a three-namespace
# topology on the benchmarking range, keys, configs, daemons started and
# stopped by PID, polling helpers. Source it, then call topo_up.
#
#   client ns (per client)            server ns                 inet ns
#   c0 198.18.N.2/24 ---- sN 198.18.N.1/24   s0 198.19.0.1/24 ---- i0 198.19.0.2/24
#                                     vpn0 10.8.0.1/24, NAT out of s0
#
# Clients have no default route: the internet host is reachable only
# through the tunnel, and it has no route back to the clients' underlay, so
# a reply proves the server masqueraded.

: "${BIN_DIR:=bin}"
BIN_DIR=$(cd "$BIN_DIR" && pwd)
VPND=$BIN_DIR/vpnd
VPNCTL=$BIN_DIR/vpnctl
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=98}

TAG=vt$$
NS_S=$TAG-srv
NS_I=$TAG-inet
INET_IP=198.19.0.2
SERVER_UNDERLAY=198.19.0.1
T=$(mktemp -d /tmp/vpnd-e2e.XXXXXX)
PIDS=()
CLIENT_NS=()

say()  { printf '# %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*"; show_logs; exit 1; }
ok()   { printf 'ok - %s\n' "$*"; }
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
# bg_ns NS CMD...: start CMD in NS in the background; $! is CMD's own PID
# (ip netns exec forks, nsenter execs), so it can be signalled and waited for.
bg_ns() { local ns=$1; shift; nsenter --net="/run/netns/$ns" -- "$@" & }

need_root() {
	if [[ $(id -u) != 0 || ! -c /dev/net/tun ]] || ! ip netns add "$TAG-probe" 2>/dev/null; then
		echo "SKIP: needs root, /dev/net/tun and network namespaces"
		exit 77
	fi
	ip netns del "$TAG-probe"
}

show_logs() {
	local f
	for f in "$T"/*.log; do
		[[ -f $f ]] || continue
		printf -- '--- %s (last 25 lines)\n' "${f##*/}"
		tail -n 25 "$f"
	done
}

# Stop every process we started, by PID; then remove namespaces and files.
cleanup() {
	local pid ns
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait_pid_gone "$pid" 5 || kill -KILL "$pid" 2>/dev/null || true
	done
	for ns in "${CLIENT_NS[@]}" "$NS_S" "$NS_I"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	if grep -lE 'AddressSanitizer|LeakSanitizer|runtime error:' "$T"/*.log 2>/dev/null; then
		echo "FAIL: sanitizer report in a daemon log"
		show_logs
		rm -rf "$T"
		exit 1
	fi
	rm -rf "$T"
}

# wait_until SECONDS CMD...: poll CMD every 50 ms until it succeeds.
wait_until() {
	local limit=$1; shift
	local end=$(( $(date +%s%N) + limit * 1000000000 ))
	until "$@" >/dev/null 2>&1; do
		(( $(date +%s%N) < end )) || return 1
		sleep 0.05
	done
}

wait_pid_gone() {
	local pid=$1 limit=$2
	wait_until "$limit" eval "! kill -0 $pid 2>/dev/null"
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

topo_up() {
	ip netns add "$NS_S"
	ip netns add "$NS_I"
	in_ns "$NS_S" ip link set lo up
	in_ns "$NS_I" ip link set lo up
	ip link add s0 netns "$NS_S" type veth peer name i0 netns "$NS_I"
	in_ns "$NS_S" ip addr add "$SERVER_UNDERLAY/24" dev s0
	in_ns "$NS_I" ip addr add "$INET_IP/24" dev i0
	in_ns "$NS_S" ip link set s0 up
	in_ns "$NS_I" ip link set i0 up
}

# client_ns N: namespace for client N (1..), linked to the server on 198.18.N.0/24.
client_ns() {
	local n=$1 ns=$TAG-c$1
	ip netns add "$ns"
	CLIENT_NS+=("$ns")
	in_ns "$ns" ip link set lo up
	ip link add c0 netns "$ns" type veth peer name "s$n" netns "$NS_S"
	in_ns "$ns" ip addr add "198.18.$n.2/24" dev c0
	in_ns "$NS_S" ip addr add "198.18.$n.1/24" dev "s$n"
	in_ns "$ns" ip link set c0 up
	in_ns "$NS_S" ip link set "s$n" up
}

# underlay6 N: IPv6 on client N's link too: 2001:db8:N::2/64 <-> 2001:db8:N::1/64
# (nodad: usable at once, no duplicate address detection wait).
underlay6() {
	local n=$1
	in_ns "$TAG-c$n" ip -6 addr add "2001:db8:$n::2/64" dev c0 nodad
	in_ns "$NS_S" ip -6 addr add "2001:db8:$n::1/64" dev "s$n" nodad
}

# start_client_hosts NAME N HOSTS: as start_client, with the file HOSTS as
# the client's /etc/hosts, bind-mounted in a private mount namespace (the
# real /etc is never written). unshare and sh exec, so $! is vpnd's PID.
start_client_hosts() {
	bg_ns "$TAG-c$2" unshare -m sh -c 'mount --bind "$1" /etc/hosts && exec "$2" -c "$3"' \
		sh "$3" "$VPND" "$T/$1.conf" >>"$T/$1.log" 2>&1
	CLIENT_PID=$!
	PIDS+=("$CLIENT_PID")
	eval "PID_$1=$CLIENT_PID"
}

keygen() { "$VPNCTL" keygen "$1" --dir "$T" >/dev/null; "$VPNCTL" fingerprint "$T/$1.crt"; }

# server_conf [extra lines]: writes $T/server.conf and an empty allow-list.
server_conf() {
	[[ -f $T/server.key ]] || keygen server >/dev/null
	[[ -f $T/peers.conf ]] || printf 'peers = ();\n' > "$T/peers.conf"
	cat > "$T/server.conf" <<-CONF
	mode = "server";
	listen = "0.0.0.0:4433";
	key = "server.key";
	cert = "server.crt";
	tun = { name = "vpn0"; mtu = 1400; };
	network = "${NETWORK:-10.8.0.0/24}";
	routes = [ "0.0.0.0/0" ];
	nat = { out_interface = "s0"; };
	allow_list = "peers.conf";
	control_socket = "$T/server.sock";
	keepalive = ${KEEPALIVE:-2};
	dead_peer_timeout = ${DEAD_PEER_TIMEOUT:-6};
	$*
	CONF
}

# client_conf NAME N [pin]: config for client NAME in namespace N.
client_conf() {
	local name=$1 n=$2 pin=${3:-$("$VPNCTL" fingerprint "$T/server.crt")}
	[[ -f $T/$name.key ]] || keygen "$name" >/dev/null
	cat > "$T/$name.conf" <<-CONF
	mode = "client";
	server = "198.18.$n.1:4433";
	server_fingerprint = "$pin";
	key = "$name.key";
	cert = "$name.crt";
	tun = { name = "vpn0"; };
	control_socket = "$T/$name.sock";
	keepalive = ${KEEPALIVE:-2};
	dead_peer_timeout = ${DEAD_PEER_TIMEOUT:-6};
	CONF
}

allow() { "$VPNCTL" -s "$T/server.sock" allow add "$@" >/dev/null; }
ctl_s() { "$VPNCTL" -s "$T/server.sock" "$@"; }
ctl_c() { local name=$1; shift; "$VPNCTL" -s "$T/$name.sock" "$@"; }

start_server() {
	bg_ns "$NS_S" "$VPND" -c "$T/server.conf" >>"$T/server.log" 2>&1
	SERVER_PID=$!
	PIDS+=("$SERVER_PID")
	wait_until 10 test -S "$T/server.sock" || fail "server did not start"
}

# start_client NAME N: client NAME in namespace N; sets CLIENT_PID.
start_client() {
	bg_ns "$TAG-c$2" "$VPND" -c "$T/$1.conf" >>"$T/$1.log" 2>&1
	CLIENT_PID=$!
	PIDS+=("$CLIENT_PID")
	eval "PID_$1=$CLIENT_PID"
}

# fw NS RULES...: firewall rules of the test's own (table inet vpndtest), to
# block or lose packets; fw_clear NS removes them.
fw() {
	local ns=$1; shift
	in_ns "$ns" nft -f - <<-NFT
	table inet vpndtest {
		chain in { type filter hook input priority -50; policy accept; }
		chain out { type filter hook output priority -50; policy accept; }
	}
	NFT
	local r
	for r in "$@"; do in_ns "$ns" nft add rule inet vpndtest $r; done
}
fw_clear() { in_ns "$1" nft delete table inet vpndtest 2>/dev/null || true; }
block_udp() { fw "$NS_S" "in udp dport 4433 drop" "out udp sport 4433 drop"; }

transport_of() { ctl_c "$1" status --json | jq -r .transport; }
on_dtls() { [[ $(transport_of "$1") == dtls ]]; }
on_tls() { [[ $(transport_of "$1") == tls ]]; }

# xfer_serve: the transfer server on the internet host, port 8080.
xfer_serve() {
	bg_ns "$NS_I" python3 "$E2E_DIR/xfer.py" serve 8080 >/dev/null 2>&1
	PIDS+=($!)
	wait_until 10 in_ns "$NS_I" python3 -c 'import socket; socket.create_connection(("127.0.0.1", 8080), 1)' ||
		fail "transfer server did not start"
}
# upload NAME N BYTES: send BYTES random bytes from client NAME (namespace
# N) to the internet host; fails unless the sha256 matches. Sets XFER_MS.
upload() {
	local f=$T/blob.$3 want got t0
	[[ -f $f ]] || head -c "$3" /dev/urandom > "$f"
	want=$(sha256sum "$f" | cut -d' ' -f1)
	t0=$(now_ms)
	got=$(in_ns "$TAG-c$2" python3 "$E2E_DIR/xfer.py" up "$INET_IP" 8080 "$f")
	XFER_MS=$(( $(now_ms) - t0 ))
	[[ ${got#* } == "$want" ]] || fail "upload of $3 bytes: got '$got', want '$want'"
}

# download NAME N BYTES: fetch BYTES from the internet host to client NAME
# (namespace N): xfer.py's seeded stream, checked by sha256. Sets XFER_MS.
download() {
	local want got t0
	want=$(python3 -c 'import random,hashlib,sys
r=random.Random(1); h=hashlib.sha256(); n=int(sys.argv[1])
while n>0:
    k=min(n,65536); h.update(r.randbytes(k)); n-=k
print(h.hexdigest())' "$3")
	t0=$(now_ms)
	got=$(in_ns "$TAG-c$2" python3 "$E2E_DIR/xfer.py" down "$INET_IP" 8080 "$3")
	XFER_MS=$(( $(now_ms) - t0 ))
	[[ $got == "$want" ]] || fail "download of $3 bytes: got '$got', want '$want'"
}

# alice_up [server conf lines]: the usual start: the topology, one client
# "alice" in namespace 1, allowed, connected and on DTLS.
alice_up() {
	topo_up
	client_ns 1
	server_conf "$@"
	client_conf alice 1
	start_server
	allow alice "$("$VPNCTL" fingerprint "$T/alice.crt")"
	start_client alice 1
	wait_until 15 client_up alice && wait_until 10 on_dtls alice || fail "alice not up on dtls"
}

peer_count() { ctl_s peers --json | jq length; }
client_up() { [[ $(ctl_c "$1" status --json | jq -r .state) == connected ]]; }
client_addr() { ctl_c "$1" status --json | jq -r .address; }

# stop_pid PID: SIGTERM and wait; the exit status goes to STOP_RC.
stop_pid() {
	kill -TERM "$1"
	STOP_RC=0
	wait "$1" || STOP_RC=$?
}
