# shellcheck shell=bash disable=SC2034 # PEER_ENV/PEER_STDIN/SSH_STDIN are read by lab/lib.sh
# lab/scenarios.d/more.sh: keepalives under compression (Dropbear and
# AsyncSSH servers probing an OpenSSH `ssh -C` client, plink with compression
# on), dbclient's probes among keystrokes, and OpenSSH rekeys (encrypted
# KEXINIT/NEWKEYS mid-session) next to ServerAlive probes (sourced by
# lab/captures.sh). Helpers: lab/lib.sh, ppd_* in
# lab/scenarios.d/putty-paramiko-dropbear.sh, IMPL_PY in lab/scenarios.d/impl2.sh.
# Packages (Debian 12): openssh-client openssh-server putty-tools dropbear-bin
# python3-asyncssh perl.

SCENARIOS+=(
	dropbear-server-zlib
	asyncssh-server-zlib
	putty-client-zlib
	dbclient-typing
	openssh-rekey
)

# more_stdin_open SECONDS: ssh's stdin a pipe the lab holds open (nothing typed).
more_stdin_open() {
	mkfifo "$D/stdin"
	note "nothing typed: ssh's stdin is a pipe the lab held open $1 s"
	sleep "$1" >"$D/stdin" &
	BG_PIDS+=($!)
	SSH_STDIN=$D/stdin
}

scn_dropbear-server-zlib() {
	scn_begin dropbear-server-zlib "Dropbear 2022.83 server -K 2, OpenSSH ssh -vvv -C client (zlib@openssh.com after auth, no ServerAlive, stdin held open, nothing typed), remote sleep 11: the server's keepalive@openssh.com channel requests compressed, answered by ssh"
	net_up
	peer_setting server -K 2
	ppd_dropbear_server -K 2
	cap_start client 0
	ssh_args -o ServerAliveInterval=0 -C
	meta compression "ssh -C (offers zlib@openssh.com,zlib,none); dropbear's default"
	more_stdin_open 16
	ssh_bg ssh sleep 11
	ssh_wait 40
	peer_wait 1 dropbear
	scn_end
}

scn_asyncssh-server-zlib() {
	scn_begin asyncssh-server-zlib "AsyncSSH server keepalive_interval=2 (global request keepalive@openssh.com, each after an empty SSH_MSG_IGNORE), OpenSSH ssh -vvv -C client (zlib@openssh.com): the session is quiet 11 s, then exit-status 0"
	meta witness_ignore 0
	peer_setting server keepalive_interval 2
	meta compression "ssh -C (offers zlib@openssh.com,zlib,none); AsyncSSH server default"
	net_up
	peer_bg server asyncssh "$IMPL_PY" "$LAB_DIR/impl/asyncssh/server.py" "$SADDR" "$PORT" "$KEYS/host_ed25519" "$KEYS/authorized_keys" 2 11
	wait_listen "$PORT" 10
	meta port "$PORT"
	cap_start client 0
	ssh_args -o ServerAliveInterval=0 -C
	ssh_bg ssh "sleep 11"
	ssh_wait 40
	peer_wait 5 asyncssh
	scn_end
}

scn_putty-client-zlib() {
	scn_begin putty-client-zlib "PuTTY plink 0.78 client, PingIntervalSecs 2 and Compression 1 (saved session): empty SSH_MSG_IGNOREs, never answered, under zlib@openssh.com; remote sleep 11"
	ppd_sshd_client
	ppd_putty_session sa-lab 2
	echo "Compression=1" >>"$D/putty-home/.putty/sessions/sa-lab"
	meta compression "plink saved session Compression=1; sshd default (Compression yes)"
	ppd_plink "sleep 11"
	peer_wait 40 plink
	scn_end
}

# dbclient-typing: dbclient needs a terminal for -t (it puts it in raw mode),
# so it runs on a pty of Python's pty.spawn (script(1) from util-linux 2.38
# was seen spinning after dbclient had exited), fed by lab/typer.pl through
# a pipe.
MORE_PTY='import os, pty, sys; sys.exit(os.waitstatus_to_exitcode(pty.spawn(sys.argv[1:])))'
scn_dbclient-typing() {
	scn_begin dbclient-typing "Dropbear dbclient 2022.83 -K 2 -t (on a pty) typing to a remote cat (18 keys, 80-600 ms gaps, 2.8-3.2 s pauses every 6 keys), zlib@openssh.com: keepalive@openssh.com channel requests only after 2 s with nothing sent"
	ppd_sshd_client
	ppd_dropbear_keys
	local home=$D/dbclient-home
	mkdir -p "$home/.ssh"
	chmod 700 "$home" "$home/.ssh"
	echo "$SADDR $(cut -d' ' -f1-2 "$KEYS/host_ed25519.pub")" >"$home/.ssh/known_hosts"
	PEER_ENV=(HOME="$home")
	peer_setting client -K 2
	peer_remote_command cat
	meta compression "dbclient default (it has no option to turn compression off)"
	mkfifo "$D/stdin"
	meta typer "lab/typer.pl 7 18 6 2.8 3.2 | python3 pty.spawn(dbclient -t -K 2 ... cat)"
	local db=(dbclient -t -K 2 -i "$KEYS/id_ed25519.dropbear" -p "$PORT" "root@$SADDR" cat)
	PEER_STDIN=$D/stdin PEER_SHOWN="${db[*]} (on a pty: python3 -c 'pty.spawn(argv)')" \
		peer_bg client dbclient "$IMPL_PY" -c "$MORE_PTY" "${db[@]}"
	perl "$LAB_DIR/typer.pl" 7 18 6 2.8 3.2 >"$D/stdin"
	peer_wait 10 dbclient
	scn_end
}

scn_openssh-rekey() {
	scn_begin openssh-rekey "OpenSSH ssh ServerAliveInterval=2 RekeyLimit=16K, chacha20-poly1305: the remote command prints 4 KB (base64) every 0.5 s for 8 s (client-initiated rekeys, encrypted KEXINIT/NEWKEYS mid-session; incoming data defers the probes), then sleeps 6 s (probes)"
	net_up
	sshd_start "${NOCA[@]}"
	cap_start client 0
	ssh_args "${CHACHA[@]}" -o ServerAliveInterval=2 -o RekeyLimit=16K
	# shellcheck disable=SC2016 # expanded by the remote shell
	ssh_bg ssh 'for i in $(seq 16); do head -c 3000 /dev/urandom | base64 -w 0; echo; sleep 0.5; done; sleep 6'
	ssh_wait 40
	scn_end
}
