#!/usr/bin/env bash
# tls_settings: what `openssl s_client` gets from the server. TLS 1.2 is
# refused; TLS 1.3 without a client key fails; with a key that is not on
# the allow-list the client gets a DENY frame and nothing else: no CONFIG,
# no DTLS offer, no session ticket.
#
#   [c1] openssl s_client --- [srv]
set -e
source "$(dirname "$0")/lib.sh"
need_root
trap cleanup EXIT

topo_up
client_ns 1
server_conf
keygen stranger >/dev/null
start_server
sc() { in_ns "$TAG-c1" timeout 10 openssl s_client -connect 198.18.1.1:4433 -ign_eof "$@" </dev/null 2>&1; }

out=$(sc -tls1_2 || true)
grep -q "alert protocol version" <<<"$out" && grep -q "^New, (NONE)" <<<"$out" ||
	fail "TLS 1.2 not refused: $(tail -5 <<<"$out")"
ok "TLS 1.2 refused"

out=$(sc -tls1_3 || true)
grep -q "alert certificate required" <<<"$out" ||
	fail "TLS 1.3 without a client key: $(tail -5 <<<"$out")"
ok "TLS 1.3 without a client certificate: refused (certificate required)"

out=$(sc -tls1_3 -cert "$T/stranger.crt" -key "$T/stranger.key" -msg || true)
grep -q "TLSv1.3" <<<"$out" || fail "no TLS 1.3 session with a key: $(tail -5 <<<"$out")"
grep -q "not on the allow-list" <<<"$out" || fail "no DENY frame seen"
! grep -q "NewSessionTicket" <<<"$out" || fail "a session ticket was sent"
! grep -q "Compression: zlib" <<<"$out" || fail "compression on"
fp=$("$VPNCTL" fingerprint "$T/stranger.crt")
wait_until 5 grep -q "$fp.*denied" "$T/server.log" || fail "server did not log the denial"
[[ $(peer_count) == 0 ]] || fail "a peer is listed"
ok "an unknown key gets a DENY frame and nothing else (no ticket, no config)"
