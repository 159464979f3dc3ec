# shellcheck shell=bash
# lab/scenarios.d/servers.sh: keepalives of the server side of paramiko and
# libssh (their clients are in putty-paramiko-dropbear.sh and impl2.sh),
# with OpenSSH 9.2's ssh -vvv as the client (sourced by lab/captures.sh).
# ssh's log is the witness: lab/truth (peers.go) reads from it the
# keepalives the server sent and the replies ssh sent back. Each server runs
# nothing for ssh's "sleep 11": its channel stays quiet 11 s, then it sends
# exit-status 0 and closes (like asyncssh-server and go-server). Runs through
# impl_server (lab/scenarios.d/impl2.sh).
# Packages (Debian 12): python3-paramiko libssh-dev.

SCENARIOS+=(
	paramiko-server
	libssh-server
)

scn_paramiko-server() {
	scn_begin paramiko-server "paramiko 2.12 server Transport.set_keepalive(2) (global request keepalive@lag.net, want_reply 0: never answered); OpenSSH ssh -vvv client; the session is quiet 11 s, then exit-status 0 (a channel request with no reply, the size of a probe: 68 B under aes128-ctr + hmac-sha2-256-etm, what ssh picks from paramiko's offer)"
	peer_setting server Transport.set_keepalive 2
	# -P: lab/impl/paramiko/ is not put on sys.path (a lab script there
	# named like a standard module would shadow it)
	impl_server paramiko "sleep 11" -- /usr/bin/python3 -P "$LAB_DIR/impl/paramiko/server.py" "$SADDR" "$PORT" "$KEYS/host_ed25519" "$KEYS/authorized_keys" 2 11
}

scn_libssh-server() {
	scn_begin libssh-server "libssh 0.10 server: ssh_send_keepalive() (global request keepalive@openssh.com, want_reply 1, answered REQUEST_FAILURE by ssh) on the program's own 2 s timer; OpenSSH ssh -vvv client; the session is quiet 11 s, then exit-status 0 (the size of a probe, no reply), EOF and CLOSE in one segment (libssh sets no TCP_NODELAY)"
	gcc -O2 -Wall -Wno-deprecated-declarations -o "$D/libssh-server" "$LAB_DIR/impl/libssh/server.c" -lssh || die "gcc libssh server"
	note "libssh-server built at capture time: gcc -O2 -Wall -Wno-deprecated-declarations -o lab/scratch/$S/libssh-server lab/impl/libssh/server.c -lssh"
	peer_setting server "ssh_send_keepalive timer" 2
	impl_server libssh "sleep 11" -- "$D/libssh-server" "$SADDR" "$PORT" "$KEYS/host_ed25519" "$KEYS/authorized_keys" 2 11
}
