#!/usr/bin/env bash
# atomic: the allow-list survives kill -9 at any moment. EDITS (70 in make
# check; 200 or more by hand) `vpnctl allow add/remove` with the server killed at random points of about one edit in
# seven; after every kill the file parses and holds the old or the new
# state, never a mix or a torn write.
#
#   [srv] alone; the edits go over the control socket
# timeout: 540
set -e
source "$(dirname "$0")/lib.sh"
need_root
trap cleanup EXIT

topo_up
server_conf
out=$(python3 "$E2E_DIR/atomic.py" "$NS_S" "$VPND" "$VPNCTL" "$T/server.conf" \
	"$T/server.sock" "$T/peers.conf" "${EDITS:-70}" "${SEED:-$$}") || fail "$out"
ok "$out"
ls -A "$T" | grep -q "^\.peers" && fail "temporary files left: $(ls -A "$T")"
ok "no temporary file left behind"
