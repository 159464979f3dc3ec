# shellcheck shell=bash
# lab/scenarios.d/endings.sh: how sessions end and share connections (sourced
# by lab/captures.sh): a shell logged out by TMOUT next to a command that
# simply ended, sshd closing a connection without channels
# (UnusedConnectionTimeout), two connections on the same 4-tuple (port
# reuse), a TCP forward (-L), ControlMaster multiplexing and an sftp
# transfer. OpenSSH 9.2 on both ends, zero-latency veth. The end cause comes
# from what the lab did and what the endpoints logged (meta end_cause), never
# from the analyzer.
# Packages (Debian 12): openssh-client openssh-server perl.

SCENARIOS+=(
	tmout-shell
	command-ended
	sshd-unused-timeout
	port-reuse
	forward-L
	controlmaster
	sftp-transfer
)

# end_line FILE REGEX: the first line of an endpoint log matching REGEX,
# without its stamp (for the end cause's evidence).
end_line() { grep -Em1 "$2" "$1" 2>/dev/null | cut -d' ' -f2- | tr -d '\r'; }

# exit_evidence LOGNAME...: what sshd and the clients logged when the remote
# commands exited (for end_cause).
exit_evidence() {
	local n out
	out="sshd logged: $(grep -E "session_exit_message: session" "$D/sshd.log" | cut -d' ' -f2- | tr -d '\r' | paste -sd '|' | sed 's/|/ | /g')"
	for n in "$@"; do
		out+="; $n logged: $(end_line "$D/$n.log" "debug1: Exit status|Received exit status from master")"
	done
	printf '%s' "$out"
}

scn_tmout-shell() {
	scn_begin tmout-shell "idle interactive shell (ssh -tt, remote 'env TMOUT=4 bash --norc --noprofile -i'), nothing typed: bash logs the user out after 4 s without input; no keepalives"
	net_up
	sshd_start "${NOCA[@]}"
	cap_start client 0
	ssh_args "${CHACHA[@]}" "${NOSA[@]}" -tt
	mkfifo "$D/stdin"
	meta typer "nothing typed; stdin held open 14 s"
	SSH_STAMP_OUT=1 SSH_STDIN=$D/stdin ssh_bg ssh "env TMOUT=4 bash --norc --noprofile -i"
	sleep 14 >"$D/stdin" &
	BG_PIDS+=($!)
	ssh_wait 20
	# the truth reads bash's "auto-logout" from ssh.out (lab/truth trueCause)
	scn_end
}

scn_command-ended() {
	scn_begin command-ended "ssh runs 'sleep 4' (no pty, no keepalives): the same 4 s of silence as tmout-shell, but the remote command simply ended by itself"
	net_up
	sshd_start "${NOCA[@]}"
	cap_start client 0
	ssh_args "${CHACHA[@]}" "${NOSA[@]}"
	ssh_bg ssh sleep 4
	ssh_wait 20
	meta end_cause command-ended "the remote command (sleep 4) ended by itself; nothing was typed and no idle timer was set; $(exit_evidence ssh)"
	scn_end
}

scn_sshd-unused-timeout() {
	scn_begin sshd-unused-timeout "ssh -N (no channel ever opened, no keepalives) to sshd with UnusedConnectionTimeout 3: sshd closes the unused connection after 3 s"
	net_up
	sshd_start "${NOCA[@]}" "UnusedConnectionTimeout 3"
	cap_start client 0
	ssh_args "${CHACHA[@]}" "${NOSA[@]}" -N
	ssh_bg ssh
	ssh_wait 15
	local l
	l=$(end_line "$D/sshd.log" "terminating inactive connection|[Uu]nused connection")
	meta end_cause idle-logout "sshd closed the connection after the client's silence (UnusedConnectionTimeout 3, no channel open); sshd logged: ${l:-(nothing about it)}"
	scn_end
}

scn_port-reuse() {
	scn_begin port-reuse "two successive connections from the same client port (client netns ip_local_port_range 40000 40000, tcp_tw_reuse 1): 'sleep 4' with ServerAliveInterval=1 ends with a FIN, then ~1 s later 'sleep 5' with ServerAliveInterval=2 on the same 4-tuple, new ISN"
	net_up
	# (not ns_sysctl: sysctl -n prints the range tab-separated)
	ip netns exec "$NSC" sysctl -qw "net.ipv4.ip_local_port_range=40000 40000"
	meta sysctl client net.ipv4.ip_local_port_range "$(ip netns exec "$NSC" sysctl -n net.ipv4.ip_local_port_range | tr -s '\t' ' ')"
	ns_sysctl client net.ipv4.tcp_tw_reuse 1
	sshd_start "${NOCA[@]}"
	meta sshd_log_shared 1
	cap_start client 0
	ssh_args "${CHACHA[@]}" -o ServerAliveInterval=1
	ssh_bg ssh1 sleep 4
	ssh_wait 20 ssh1
	# a TIME-WAIT socket on the client's side can be reused (tcp_tw_reuse)
	# once a second has passed since its last timestamp
	note "client sockets after the first connection: $(ip netns exec "$NSC" ss -Htan | tr -s ' ' | tr '\n' ';')"
	sleep 1.05
	ssh_args "${CHACHA[@]}" -o ServerAliveInterval=2
	ssh_bg ssh2 sleep 5
	ssh_wait 20 ssh2
	meta end_cause command-ended "each remote command (sleep 4, then sleep 5) ended by itself; nothing was typed and no idle timer was set; $(exit_evidence ssh1 ssh2)"
	scn_end
}

# The echo server (server namespace, one connection, 25 s at most) and the
# tunnel's user (client namespace: a line every 0.5 s for 6 s, each echo read
# back, then it closes).
fwd_echo_server() {
	perl -MIO::Socket::INET -e '
		$SIG{ALRM} = sub { exit 0 }; alarm 25; $| = 1;
		my $l = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $ARGV[0], Listen => 1, ReuseAddr => 1) or die "listen: $!";
		my $c = $l->accept or die "accept: $!";
		print "accepted\n";
		while (my $x = <$c>) { print $c $x; print "echoed $x"; }
		print "eof\n";
	' "$1"
}
fwd_user() {
	perl -MIO::Socket::INET -MTime::HiRes=time,sleep -e '
		$SIG{ALRM} = sub { exit 1 }; alarm 15; $| = 1;
		my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $ARGV[0]) or die "connect: $!";
		my $t0 = time;
		for my $i (1 .. 12) {
			my $d = $t0 + 0.5 * ($i - 1) - time;
			sleep $d if $d > 0;
			print $c "line $i\n";
			my $r = <$c>;
			print "got $r";
		}
		close $c;
		print "closed\n";
	' "$1"
}

scn_forward-L() {
	scn_begin forward-L "ssh -N -L 127.0.0.1:7000:127.0.0.1:7001 (ServerAliveInterval=2): a line every 0.5 s echoed through the tunnel for 6 s, the tunnel's TCP connection closed, then 8 s idle with probes; the connection is still open when the capture stops"
	net_up
	sshd_start "${NOCA[@]}"
	ip netns exec "$NSS" bash -c "$(declare -f fwd_echo_server); fwd_echo_server 7001" > >(stamp >"$D/echo.out") 2>&1 &
	BG_PIDS+=($!)
	wait_listen 7001 5
	note "echo server (perl, lab/scenarios.d/endings.sh fwd_echo_server) on 127.0.0.1:7001 in the server namespace; its user (fwd_user) connects to 127.0.0.1:7000 in the client namespace, sends 'line N' every 0.5 s (12 lines), reads each echo, closes"
	cap_start client 0
	ssh_args "${CHACHA[@]}" -o ServerAliveInterval=2 -N -L 127.0.0.1:7000:127.0.0.1:7001
	ssh_bg ssh
	wait_log "$D/ssh.log" "Local forwarding listening on 127.0.0.1 port 7000" 10 || die "no forward"
	sleep 1
	ip netns exec "$NSC" bash -c "$(declare -f fwd_user); fwd_user 7000" > >(stamp >"$D/user.out") 2>&1
	sleep 8
	note "ssh -N was ended by the lab after the capture stopped: the connection is still open in the file"
	scn_end
}

scn_controlmaster() {
	scn_begin controlmaster "ControlMaster (ControlPersist no, ServerAliveInterval=2) runs 'sleep 3'; a second ssh multiplexed over the same TCP connection (ControlPath) runs 'sleep 6'; the master exits after the last session ends"
	net_up
	sshd_start "${NOCA[@]}"
	cap_start client 0
	# ControlPath relative to the live directory (no machine path in the manifest)
	cd "$D" || die "cd"
	ssh_args "${CHACHA[@]}" -o ServerAliveInterval=2 -o ControlMaster=yes -o ControlPath=cm -o ControlPersist=no
	ssh_bg master sleep 3
	wait_log "$D/master.log" "mux_listener_setup|setting up multiplex master socket" 10 || die "no master socket"
	wait_log "$D/master.log" "Entering interactive session" 10
	sleep 0.3
	ssh_args "${CHACHA[@]}" -o ControlMaster=no -o ControlPath=cm
	ssh_bg mux sleep 6
	ssh_wait 20 mux
	ssh_wait 10 master
	meta end_cause command-ended "both remote commands (the master's sleep 3, the multiplexed session's sleep 6) ended by themselves; the master (ControlPersist no) then closed the connection; nothing was typed and no idle timer was set; $(exit_evidence master mux)"
	scn_end
}

scn_sftp-transfer() {
	scn_begin sftp-transfer "sftp -b (ServerAliveInterval=2): put a 2 MiB file, get it back, then a local '!sleep 5' (5 s idle) and the batch ends; snaplen 96"
	net_up
	sshd_start "${NOCA[@]}"
	cd "$D" || die "cd"
	head -c 2M /dev/urandom >up.bin
	mkdir -p "$D/srv"
	{
		echo "put up.bin $D/srv/up.bin"
		echo "get $D/srv/up.bin down.bin"
		echo "!sleep 5"
	} >"$D/batch"
	cap_start client 96
	local opts=("${CHACHA[@]}" -o ServerAliveInterval=2)
	meta client sftp "$(now)"
	local o
	for o in "${opts[@]}"; do meta ssh_option sftp "$o"; done
	meta ssh_command sftp "sftp -b batch: put up.bin (2 MiB), get it back, !sleep 5"
	ip netns exec "$NSC" sftp -v -v -v -F /dev/null -i "$KEYS/id_ed25519" -o IdentitiesOnly=yes \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=DEBUG3 -P "$PORT" \
		"${opts[@]}" -b "$D/batch" "root@$SADDR" >"$D/sftp.out" 2> >(stamp >"$D/sftp.log") </dev/null &
	SSH_PID=$!
	# shellcheck disable=SC2034 # read by ssh_wait (lab/lib.sh)
	SSH_PIDS["sftp"]=$SSH_PID
	BG_PIDS+=("$SSH_PID")
	ssh_wait 25 sftp
	if cmp -s up.bin down.bin; then note "the file came back intact (cmp)"; else note "the file did not come back intact"; fi
	rm -f up.bin down.bin "$D/srv/up.bin"
	meta end_cause user-exit "sftp's batch (-b) ended after its last command (a local !sleep 5): the client quit and closed the session"
	scn_end
}
