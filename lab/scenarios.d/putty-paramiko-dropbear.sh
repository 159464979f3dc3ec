# shellcheck shell=bash disable=SC2034 # PEER_ENV/PEER_STDIN are read by peer_bg (lab/lib.sh)
# lab/scenarios.d/putty-paramiko-dropbear.sh: keepalives of PuTTY (plink),
# paramiko and Dropbear (dbclient, dropbear) against OpenSSH 9.2 (sourced by
# lab/captures.sh). The OpenSSH peer (sshd at DEBUG3, or ssh -vvv) is the
# witness: lab/truth (peers.go) reads from its log the keepalives it received
# and the failures it sent back. Helpers: peer_bg/peer_wait/peer_setting in
# lab/lib.sh.
# Packages (Debian 12): putty-tools dropbear-bin python3-paramiko.

SCENARIOS+=(
	putty-client-idle
	putty-client-typing
	paramiko-client-idle
	paramiko-client-output
	dropbear-client-idle
	dropbear-client-eof
	dropbear-client-output
	dropbear-server
	dropbear-server-idle-timeout
	dropbear-server-idle-keepalive
)

PPD_PY=/usr/bin/python3 # Debian's python, where python3-paramiko lives
# a remote command that prints a line every 0.5 s for 10 s
# shellcheck disable=SC2016 # expanded by the remote shell
PPD_OUTPUT='for i in $(seq 20); do echo line $i; sleep 0.5; done'

# ppd_sshd_client: namespaces, the lab's sshd (no ClientAlive), capture on the
# client side.
ppd_sshd_client() {
	net_up
	sshd_start "ClientAliveInterval 0"
	cap_start client 0
}

# ---- paramiko (python3-paramiko 2.12)
# paramiko_run INTERVAL COMMAND
paramiko_run() {
	ppd_sshd_client
	peer_setting client Transport.set_keepalive "$1"
	peer_remote_command "$2"
	peer_bg client paramiko "$PPD_PY" "$LAB_DIR/impl/paramiko/client.py" "$SADDR" "$PORT" "$KEYS/id_ed25519" "$KEYS/host_ed25519.pub" "$1" "$2"
	peer_wait 40 paramiko
	scn_end
}

scn_paramiko-client-idle() {
	scn_begin paramiko-client-idle "paramiko client Transport.set_keepalive(2) (global request keepalive@lag.net, want_reply 0), remote sleep 11"
	paramiko_run 2 "sleep 11"
}

scn_paramiko-client-output() {
	scn_begin paramiko-client-output "paramiko client Transport.set_keepalive(2) while the remote command prints a line every 0.5 s for 10 s (incoming data does not stop paramiko's probes)"
	paramiko_run 2 "$PPD_OUTPUT"
}

# ---- PuTTY (putty-tools: plink 0.78)
# PuTTY's keepalive (PingIntervalSecs) can only be set in a saved session:
# ppd_putty_session NAME PINGSECS writes $D/putty-home/.putty/sessions/NAME
# (HOME for plink is $D/putty-home) with the lab's key converted by puttygen.
ppd_putty_session() {
	local home=$D/putty-home
	mkdir -p "$home/.putty/sessions"
	[ -f "$KEYS/id_ed25519.ppk" ] || puttygen "$KEYS/id_ed25519" -O private -o "$KEYS/id_ed25519.ppk" || die "puttygen"
	{
		echo "HostName=$SADDR"
		echo "PortNumber=$PORT"
		echo "Protocol=ssh"
		echo "UserName=root"
		echo "PublicKeyFile=$KEYS/id_ed25519.ppk"
		echo "PingIntervalSecs=$2"
	} >"$home/.putty/sessions/$1"
	meta note "plink -load $1: saved session ~/.putty/sessions/$1 (HOME under the scenario's directory) with $(tr '\n' ' ' <"$home/.putty/sessions/$1" | sed "s#$KEYS/##")"
	peer_setting client PingIntervalSecs "$2"
	PEER_ENV=(HOME="$home")
}

# ppd_plink REMOTE_COMMAND [PLINK OPTION...]: plink in the client namespace,
# the host key pinned by its fingerprint.
ppd_plink() {
	local cmd=$1 fp
	shift
	fp=$(ssh-keygen -lf "$KEYS/host_ed25519.pub" | awk '{print $2}')
	peer_remote_command "$cmd"
	peer_bg client plink plink -load sa-lab -batch -noagent -v -hostkey "$fp" "$@" "$cmd"
}

scn_putty-client-idle() {
	scn_begin putty-client-idle "PuTTY plink 0.78 client, PingIntervalSecs 2 (saved session): empty SSH_MSG_IGNORE, never answered; remote sleep 11; the cipher plink negotiates by default"
	ppd_sshd_client
	ppd_putty_session sa-lab 2
	ppd_plink "sleep 11"
	peer_wait 40 plink
	scn_end
}

scn_putty-client-typing() {
	scn_begin putty-client-typing "PuTTY plink 0.78 client, PingIntervalSecs 2, typing through a pty (plink -t, remote cat; 16 keys, 80-600 ms gaps, 4.5-5.5 s pauses): IGNOREs on a fixed 2 s schedule, each sent at plink's next wake-up, so most share a segment with a keystroke (alone only in the long pauses)"
	ppd_sshd_client
	ppd_putty_session sa-lab 2
	mkfifo "$D/stdin"
	meta typer "lab/typer.pl 7 16 8 4.5 5.5 | plink -t ... cat"
	PEER_STDIN=$D/stdin ppd_plink cat -t
	perl "$LAB_DIR/typer.pl" 7 16 8 4.5 5.5 >"$D/stdin"
	peer_wait 10 plink
	scn_end
}

# ---- Dropbear (dropbear-bin 2022.83): dbclient and the dropbear server
# ppd_dropbear_keys: the lab's user and host keys in Dropbear's format
# (dropbearconvert), so dbclient and dropbear use the same keys as ssh/sshd.
ppd_dropbear_keys() {
	local k
	for k in id_ed25519 host_ed25519; do
		[ -f "$KEYS/$k.dropbear" ] && continue
		dropbearconvert openssh dropbear "$KEYS/$k" "$KEYS/$k.dropbear" 2>/dev/null || die "dropbearconvert $k"
	done
}

# ppd_dbclient KEEPALIVE STDIN REMOTE_COMMAND: dbclient in the client
# namespace with HOME under $D, the server's host key pinned in its
# known_hosts. STDIN "open": a pipe the lab holds open and never writes
# (a terminal nobody types at); "eof": /dev/null (dbclient sends
# CHANNEL_EOF at once, and then keepalives as global requests: Dropbear
# sends channel requests only on a channel neither side sent EOF on).
ppd_dbclient() {
	local home=$D/dbclient-home
	ppd_dropbear_keys
	mkdir -p "$home/.ssh"
	chmod 700 "$home" "$home/.ssh"
	echo "$SADDR $(cut -d' ' -f1-2 "$KEYS/host_ed25519.pub")" >"$home/.ssh/known_hosts"
	PEER_ENV=(HOME="$home")
	peer_setting client -K "$1"
	peer_remote_command "$3"
	meta compression "dbclient default (it has no option to turn compression off)"
	if [ "$2" = open ]; then
		mkfifo "$D/stdin"
		note "nothing typed: dbclient's stdin is a pipe the lab held open 16 s"
		sleep 16 >"$D/stdin" &
		BG_PIDS+=($!)
		PEER_STDIN=$D/stdin
	else
		note "dbclient's stdin is /dev/null (EOF at once)"
	fi
	peer_bg client dbclient dbclient -K "$1" -i "$KEYS/id_ed25519.dropbear" -p "$PORT" "root@$SADDR" "$3"
	peer_wait 40 dbclient
}

scn_dropbear-client-idle() {
	scn_begin dropbear-client-idle "Dropbear dbclient 2022.83 -K 2, stdin held open (nothing typed), remote sleep 11, default negotiation (dbclient offers zlib@openssh.com and sshd accepts it: sizes vary)"
	ppd_sshd_client
	ppd_dbclient 2 open "sleep 11"
	scn_end
}

scn_dropbear-client-eof() {
	scn_begin dropbear-client-eof "Dropbear dbclient 2022.83 -K 2, stdin /dev/null (dbclient sends CHANNEL_EOF at once), remote sleep 11, zlib@openssh.com: keepalives as global requests although the channel is open"
	ppd_sshd_client
	ppd_dbclient 2 eof "sleep 11"
	scn_end
}

scn_dropbear-client-output() {
	scn_begin dropbear-client-output "Dropbear dbclient 2022.83 -K 2, stdin held open, while the remote command prints a line every 0.5 s for 10 s: dbclient sends nothing, so it keeps probing; zlib@openssh.com"
	ppd_sshd_client
	ppd_dbclient 2 open "$PPD_OUTPUT"
	scn_end
}

# ppd_dropbear_server DROPBEAR_OPTION...: the dropbear server in the server
# namespace. Dropbear reads root's ~/.ssh/authorized_keys with no option to
# point elsewhere: it runs in a mount namespace of its own (unshare -m) where
# a directory under $D holding the lab's authorized key is bind-mounted on
# /root, so the machine's /root is never touched and no user is created.
ppd_dropbear_server() {
	local home=$D/dropbear-root
	ppd_dropbear_keys
	mkdir -p "$home/.ssh"
	chmod 700 "$home" "$home/.ssh"
	cp "$KEYS/authorized_keys" "$home/.ssh/authorized_keys"
	chmod 600 "$home/.ssh/authorized_keys"
	local o
	for o in "$@"; do meta dropbear_option "$o"; done
	meta port "$PORT"
	note "dropbear runs in a mount namespace of its own where lab/scratch/$S/dropbear-root (holding the lab's authorized key) is bind-mounted on /root: the machine's /root is not touched, no user is created"
	local db=(dropbear -F -E -s -j -k -P "$D/dropbear.pid" -p "$SADDR:$PORT" -r "$KEYS/host_ed25519.dropbear" "$@")
	# shellcheck disable=SC2016 # $0 and $@ are sh -c's
	PEER_SHOWN="${db[*]} (in unshare -m, $home bind-mounted on /root)" \
		peer_bg server dropbear unshare -m sh -c 'mount --bind "$0" /root && exec "$@"' "$home" "${db[@]}"
	wait_listen "$PORT" 5
}

scn_dropbear-server() {
	scn_begin dropbear-server "Dropbear 2022.83 server -K 2, OpenSSH ssh -vvv client (no ServerAlive, stdin held open, nothing typed), remote sleep 11: keepalive@openssh.com channel requests from the server, answered by ssh"
	net_up
	peer_setting server -K 2
	ppd_dropbear_server -K 2
	cap_start client 0
	ssh_args -o ServerAliveInterval=0
	mkfifo "$D/stdin"
	note "nothing typed: ssh's stdin is a pipe the lab held open 16 s (with stdin at EOF, ssh sends CHANNEL_EOF and Dropbear probes with global requests instead)"
	sleep 16 >"$D/stdin" &
	BG_PIDS+=($!)
	SSH_STDIN=$D/stdin ssh_bg ssh sleep 11
	ssh_wait 40
	peer_wait 1 dropbear
	scn_end
}

scn_dropbear-server-idle-timeout() {
	scn_begin dropbear-server-idle-timeout "Dropbear 2022.83 server -I 4 (idle timeout), no keepalives on either side, OpenSSH ssh -vvv client, remote sleep 20: dropbear ends the idle session after 4 s"
	net_up
	ppd_dropbear_server -I 4
	cap_start client 0
	ssh_args -o ServerAliveInterval=0
	ssh_bg ssh sleep 20
	ssh_wait 30
	local why
	why=$(grep -m1 -i 'idle timeout' "$D/dropbear.log" | cut -d' ' -f2-)
	meta end_cause idle-logout "the lab ran dropbear -I 4 and sent nothing after the remote sleep 20 started; dropbear ended the session after 4 s idle${why:+ (dropbear logged: $why)}"
	peer_wait 1 dropbear
	scn_end
}

scn_dropbear-server-idle-keepalive() {
	scn_begin dropbear-server-idle-keepalive "Dropbear 2022.83 server -K 2 -I 5, OpenSSH ssh -vvv client (no ServerAlive, stdin held open, nothing typed), remote sleep 20: the server's keepalives are answered, yet its idle timeout ends the session"
	net_up
	peer_setting server -K 2
	ppd_dropbear_server -K 2 -I 5
	cap_start client 0
	ssh_args -o ServerAliveInterval=0
	mkfifo "$D/stdin"
	note "nothing typed: ssh's stdin is a pipe the lab held open 16 s"
	sleep 16 >"$D/stdin" &
	BG_PIDS+=($!)
	SSH_STDIN=$D/stdin ssh_bg ssh sleep 20
	ssh_wait 30
	local why
	why=$(grep -m1 -i 'idle timeout' "$D/dropbear.log" | cut -d' ' -f2-)
	meta end_cause idle-logout "the lab ran dropbear -K 2 -I 5 and sent nothing after the remote sleep 20 started; dropbear ended the session after 5 s idle although its keepalives were answered${why:+ (dropbear logged: $why)}"
	peer_wait 1 dropbear
	scn_end
}
