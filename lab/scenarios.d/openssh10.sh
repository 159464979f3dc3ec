# lab/scenarios.d/openssh10.sh: OpenSSH 10 (Debian 13 trixie's ssh and sshd)
# in the lab's namespaces (sourced by lab/captures.sh). The binaries come from
# the debootstrap root lab/trixie.sh builds (lab/scratch/trixie-root) and run
# with chroot through lab/openssh10.sh; logs are DEBUG3 on both ends as in the
# rest of the lab, so lab/truth reads them unchanged.
# Needs: debootstrap (lab/trixie.sh installs it) and network access to the
# Debian mirror once, to build the root.

# shellcheck source=lab/openssh10.sh
. "$LAB_DIR/openssh10.sh"

SCENARIOS+=(
	openssh10-serveralive
	openssh10-clientalive
	openssh10-client-92-server
	openssh10-chaff
	openssh10-chaff-serveralive
)

# o10_simple CLIENT SERVER SSHD_LINES... -- SSH_OPTIONS... -- REMOTE COMMAND:
# like scenarios.sh's simple, CLIENT and SERVER each "10" (trixie) or "9.2"
# (this machine's Debian 12 OpenSSH).
o10_simple() {
	local cli=$1 srv=$2 sshd=() opts=()
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do sshd+=("$1"); shift; done
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	o10_ready
	o10_versions
	net_up
	[ "$srv" = 10 ] && o10_sshd
	sshd_start "${sshd[@]}"
	cap_start client 0
	ssh_args "${opts[@]}"
	[ "$cli" = 10 ] && o10_ssh
	ssh_bg ssh "$@"
	ssh_wait 40
	scn_end
}

scn_openssh10-serveralive() {
	scn_begin openssh10-serveralive "OpenSSH 10.0 client and server (Debian 13): client probes (ServerAliveInterval=2), default KEX and cipher, session channel open"
	o10_simple 10 10 "ClientAliveInterval 0" -- -o ServerAliveInterval=2 -o ServerAliveCountMax=3 -- sleep 11
}

scn_openssh10-clientalive() {
	scn_begin openssh10-clientalive "OpenSSH 10.0 client and server (Debian 13): server probes (sshd ClientAliveInterval=2; sshd >= 9.5 fires every ~2 s, not 4), default cipher, session channel open"
	o10_simple 10 10 "ClientAliveInterval 2" "ClientAliveCountMax 3" -- -o ServerAliveInterval=0 -- sleep 13
}

scn_openssh10-client-92-server() {
	scn_begin openssh10-client-92-server "OpenSSH 10.0 client (Debian 13) to sshd 9.2 (Debian 12): server probes (ClientAliveInterval=2; sshd 9.2 still fires every ~4 s), default cipher, session channel open"
	o10_simple 10 9.2 "ClientAliveInterval 2" "ClientAliveCountMax 3" -- -o ServerAliveInterval=0 -- sleep 17
}

# o10_typing SEED CHARS PAUSE_EVERY PMIN PMAX -- SSH_OPTIONS...: OpenSSH 10 at
# both ends, ssh -tt to a remote cat fed by lab/typer.pl (as scenarios.sh's
# typing_run, with each key's time logged), no ClientAlive; then notes on the
# chaff the client logged (o10_chaff_notes).
o10_typing() {
	local typer=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do typer+=("$1"); shift; done
	shift
	o10_ready
	o10_versions
	net_up
	o10_sshd
	sshd_start "ClientAliveInterval 0"
	cap_start client 0
	ssh_args "$@" -tt
	o10_ssh
	mkfifo "$D/stdin"
	meta typer "lab/typer.pl ${typer[*]} | ssh -tt ... cat (key times in keys.log)"
	SSH_STDIN=$D/stdin ssh_bg ssh cat
	o10_typer "${typer[@]}"
	ssh_wait 10
	scn_end
	o10_chaff_notes
}

scn_openssh10-chaff() {
	scn_begin openssh10-chaff "OpenSSH 10.0 client and server: typing through a pty (ssh -tt, remote cat; 30 keys, 80-600 ms gaps, 1-2 s pauses), no keepalive settings: keystroke-timing chaff (ObscureKeystrokeTiming default, PING/PONG every ~20 ms while typing and 1-3 s after)"
	o10_typing 7 30 9 1.0 2.0 -- -o ServerAliveInterval=0
}

scn_openssh10-chaff-serveralive() {
	scn_begin openssh10-chaff-serveralive "OpenSSH 10.0 client and server: typing through a pty with ServerAliveInterval=2 and 4 s pauses every 3 keys: chaff PONGs reset the client's timer, so probes come only in the quiet part of the pauses"
	o10_typing 5 9 3 4.0 4.0 -- -o ServerAliveInterval=2 -o ServerAliveCountMax=3
}
