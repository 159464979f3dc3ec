# lab/scenarios.sh: the capture scenarios (sourced by lab/captures.sh).
# Each scn_NAME runs in its own subshell; see lab/lib.sh for the helpers.
# Every scenario is bounded: a fixed remote command or sleep, and ssh_wait /
# wait_log limits. Intervals are 1-3 s so each capture lasts seconds.

SCENARIOS=(
	serveralive-chacha
	clientalive-chacha
	clientalive-nochannel
	both-sides
	both-sides-equal
	both-sides-interleaved
	serveralive-aes128gcm
	serveralive-aes128ctr-etm
	serveralive-aes128ctr-hmac
	clientalive-aes256gcm
	clientalive-aes128ctr-hmac
	tcpka-client
	tcpka-server
	tcpka-and-serveralive
	idle-none
	typing
	bulk
	typing-serveralive
	serveralive-dead
	clientalive-dead
	serveralive-hung
	clientalive-hung
	tcpka-dead
	midstream
	port2222
	ipv6
	any-sll2
	snaplen64
	pcapng
	multi
	idle-drop
	idle-drop-kept
	tmout
	tmout-serveralive
	user-exit
)

CHACHA=(-o Ciphers=chacha20-poly1305@openssh.com)
NOSA=(-o ServerAliveInterval=0)
NOCA=("ClientAliveInterval 0")

# TCP keepalive sysctls for one namespace: time 2 s, intvl 1 s, 3 probes
tcpka_sysctls() {
	ns_sysctl "$1" net.ipv4.tcp_keepalive_time 2
	ns_sysctl "$1" net.ipv4.tcp_keepalive_intvl 1
	ns_sysctl "$1" net.ipv4.tcp_keepalive_probes 3
}

# drop_path client|server: iptables DROP everything in and out of one namespace
drop_path() {
	local ns=$NSC
	[ "$1" = server ] && ns=$NSS
	ip netns exec "$ns" iptables -A INPUT -j DROP
	ip netns exec "$ns" iptables -A OUTPUT -j DROP
	fault "iptables -A INPUT -j DROP; iptables -A OUTPUT -j DROP in the $1 namespace"
}

# simple SSHD_LINES... -- SSH_OPTIONS... -- REMOTE COMMAND: the common shape
# (capture on the client side, full snaplen, ssh runs the command to its end).
simple() {
	local sshd=() opts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do sshd+=("$1"); shift; done
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	net_up
	sshd_start "${sshd[@]}"
	cap_start client 0
	ssh_args "${opts[@]}"
	ssh_bg ssh "$@"
	ssh_wait 40
	scn_end
}

# ---- 1-3: one side probes
scn_serveralive-chacha() {
	scn_begin serveralive-chacha "client probes (ServerAliveInterval=2), chacha20-poly1305, session channel open"
	simple "${NOCA[@]}" -- "${CHACHA[@]}" -o ServerAliveInterval=2 -o ServerAliveCountMax=3 -- sleep 11
}

scn_clientalive-chacha() {
	scn_begin clientalive-chacha "server probes (sshd ClientAliveInterval=2; sshd 9.2 fires every ~4 s), chacha20-poly1305, session channel open"
	simple "ClientAliveInterval 2" "ClientAliveCountMax 3" -- "${CHACHA[@]}" "${NOSA[@]}" -- sleep 19
}

scn_clientalive-nochannel() {
	scn_begin clientalive-nochannel "server probes as global requests (ssh -N, no channel; ClientAliveInterval=1 fires every ~2 s), chacha20-poly1305"
	net_up
	sshd_start "ClientAliveInterval 1" "ClientAliveCountMax 3"
	cap_start client 0
	ssh_args "${CHACHA[@]}" "${NOSA[@]}" -N
	ssh_bg ssh
	sleep 11
	note "ssh -N was ended by the lab after the capture stopped: the connection is still open in the file"
	scn_end
}

# ---- 4: both sides configured
scn_both-sides() {
	scn_begin both-sides "ServerAliveInterval=3 and ClientAliveInterval=2 (9.2: ~4 s): the client's shorter period wins, the server never probes"
	simple "ClientAliveInterval 2" "ClientAliveCountMax 3" -- "${CHACHA[@]}" -o ServerAliveInterval=3 -- sleep 16
}

scn_both-sides-equal() {
	scn_begin both-sides-equal "ServerAliveInterval=2 and ClientAliveInterval=1 (9.2: ~2 s), equal effective periods: which side probes is decided by timer phase"
	simple "ClientAliveInterval 1" "ClientAliveCountMax 3" -- "${CHACHA[@]}" -o ServerAliveInterval=2 -- sleep 16
}

scn_both-sides-interleaved() {
	scn_begin both-sides-interleaved "both sides probe, in turn: ServerAliveInterval=3 fires while the client types without echo (no pty, remote cat >/dev/null), ClientAliveInterval=1 (~2 s) fires once all is quiet"
	net_up
	sshd_start "ClientAliveInterval 1" "ClientAliveCountMax 3"
	cap_start client 0
	ssh_args "${CHACHA[@]}" -o ServerAliveInterval=3
	mkfifo "$D/stdin"
	meta typer "lab/typer.pl 5 24 0 0 0 9 | ssh ... 'cat >/dev/null'"
	SSH_STDIN=$D/stdin ssh_bg ssh "cat >/dev/null"
	perl "$LAB_DIR/typer.pl" 5 24 0 0 0 9 >"$D/stdin"
	ssh_wait 10
	scn_end
}

# ---- 5: ciphers and MACs
scn_serveralive-aes128gcm() {
	scn_begin serveralive-aes128gcm "client probes (ServerAliveInterval=2), aes128-gcm@openssh.com"
	simple "${NOCA[@]}" -- -o Ciphers=aes128-gcm@openssh.com -o ServerAliveInterval=2 -- sleep 9
}

scn_serveralive-aes128ctr-etm() {
	scn_begin serveralive-aes128ctr-etm "client probes (ServerAliveInterval=2), aes128-ctr + hmac-sha2-256-etm@openssh.com"
	simple "${NOCA[@]}" -- -o Ciphers=aes128-ctr -o MACs=hmac-sha2-256-etm@openssh.com -o ServerAliveInterval=2 -- sleep 9
}

scn_serveralive-aes128ctr-hmac() {
	scn_begin serveralive-aes128ctr-hmac "client probes (ServerAliveInterval=2), aes128-ctr + hmac-sha2-256 (encrypt-and-MAC)"
	simple "${NOCA[@]}" -- -o Ciphers=aes128-ctr -o MACs=hmac-sha2-256 -o ServerAliveInterval=2 -- sleep 9
}

scn_clientalive-aes256gcm() {
	scn_begin clientalive-aes256gcm "server probes (ClientAliveInterval=1, ~2 s on 9.2), aes256-gcm@openssh.com, channel open"
	simple "ClientAliveInterval 1" -- -o Ciphers=aes256-gcm@openssh.com "${NOSA[@]}" -- sleep 11
}

scn_clientalive-aes128ctr-hmac() {
	scn_begin clientalive-aes128ctr-hmac "server probes (ClientAliveInterval=1, ~2 s on 9.2), aes128-ctr + hmac-sha2-256, channel open"
	simple "ClientAliveInterval 1" -- -o Ciphers=aes128-ctr -o MACs=hmac-sha2-256 "${NOSA[@]}" -- sleep 11
}

# ---- 6: TCP keepalives
scn_tcpka-client() {
	scn_begin tcpka-client "TCP keepalives from the client (TCPKeepAlive yes; client netns tcp_keepalive_time=2 intvl=1 probes=3), no SSH keepalives"
	net_up
	tcpka_sysctls client
	sshd_start "${NOCA[@]}" "TCPKeepAlive no"
	cap_start client 0
	ssh_args "${CHACHA[@]}" "${NOSA[@]}" -o TCPKeepAlive=yes
	ssh_bg ssh sleep 10
	ssh_wait 30
	scn_end
}

scn_tcpka-server() {
	scn_begin tcpka-server "TCP keepalives from the server (sshd TCPKeepAlive yes; server netns tcp_keepalive_time=2 intvl=1 probes=3), no SSH keepalives"
	net_up
	tcpka_sysctls server
	sshd_start "${NOCA[@]}" "TCPKeepAlive yes"
	cap_start client 0
	ssh_args "${CHACHA[@]}" "${NOSA[@]}" -o TCPKeepAlive=no
	ssh_bg ssh sleep 10
	ssh_wait 30
	scn_end
}

scn_tcpka-and-serveralive() {
	scn_begin tcpka-and-serveralive "client sends both: TCP keepalives (client netns tcp_keepalive_time=2) and SSH probes (ServerAliveInterval=3)"
	net_up
	tcpka_sysctls client
	sshd_start "${NOCA[@]}" "TCPKeepAlive no"
	cap_start client 0
	ssh_args "${CHACHA[@]}" -o ServerAliveInterval=3 -o TCPKeepAlive=yes
	ssh_bg ssh sleep 14
	ssh_wait 30
	scn_end
}

# ---- 7: no keepalives; typing; bulk
scn_idle-none() {
	scn_begin idle-none "idle session, no keepalives of any kind (~8 s)"
	simple "${NOCA[@]}" "TCPKeepAlive no" -- "${CHACHA[@]}" "${NOSA[@]}" -o TCPKeepAlive=no -- sleep 8
}

# typing_run SEED CHARS PAUSE_EVERY PMIN PMAX: ssh -tt to a remote cat, fed by lab/typer.pl
typing_run() {
	mkfifo "$D/stdin"
	meta typer "lab/typer.pl $* | ssh -tt ... cat"
	SSH_STDIN=$D/stdin ssh_bg ssh cat
	perl "$LAB_DIR/typer.pl" "$@" >"$D/stdin"
	ssh_wait 10
}

scn_typing() {
	scn_begin typing "human-like typing through a pty (ssh -tt, remote cat; 30 keys, 80-600 ms gaps, 1-2 s pauses), no keepalives"
	net_up
	sshd_start "${NOCA[@]}"
	cap_start client 0
	ssh_args "${CHACHA[@]}" "${NOSA[@]}" -tt
	typing_run 7 30 9 1.0 2.0
	scn_end
}

scn_typing-serveralive() {
	scn_begin typing-serveralive "typing through a pty with ServerAliveInterval=1: probes interleaved with keystrokes and in the 1.5-2.5 s pauses"
	net_up
	sshd_start "${NOCA[@]}"
	cap_start client 0
	ssh_args "${CHACHA[@]}" -o ServerAliveInterval=1 -tt
	typing_run 11 30 8 1.5 2.5
	scn_end
}

scn_bulk() {
	scn_begin bulk "bulk transfer server->client (2 MiB from /dev/urandom), snaplen 96, no keepalives"
	net_up
	sshd_start "${NOCA[@]}"
	cap_start client 96
	ssh_args "${CHACHA[@]}" "${NOSA[@]}"
	ssh_bg ssh "sleep 1; head -c 2M /dev/urandom; sleep 1"
	ssh_wait 30
	scn_end
}

# ---- 8: unanswered probes
scn_serveralive-dead() {
	scn_begin serveralive-dead "client probes (ServerAliveInterval=1, CountMax=3) go unanswered after the path is dropped; ssh gives up"
	net_up
	sshd_start "${NOCA[@]}"
	cap_start client 0
	ssh_args "${CHACHA[@]}" -o ServerAliveInterval=1 -o ServerAliveCountMax=3 -o TCPKeepAlive=no
	ssh_bg ssh sleep 60
	wait_count "$D/sshd.log" "server_input_global_request: rtype keepalive@openssh.com" 3 20
	sleep 0.5
	drop_path server
	ssh_wait 20
	sleep 1
	scn_end
}

scn_clientalive-dead() {
	scn_begin clientalive-dead "server probes (ClientAliveInterval=1, ~2 s on 9.2, CountMax=2) go unanswered after the path is dropped; sshd gives up (captured on the server side)"
	net_up
	sshd_start "ClientAliveInterval 1" "ClientAliveCountMax 2" "TCPKeepAlive no"
	cap_start server 0
	ssh_args "${CHACHA[@]}" "${NOSA[@]}" -o TCPKeepAlive=no
	ssh_bg ssh sleep 60
	wait_count "$D/sshd.log" "Got [0-9]+/[0-9]+ for keepalive" 2 20
	sleep 0.5
	drop_path client
	wait_log "$D/sshd.log" "Timeout, client not responding" 20
	sleep 2
	note "the ssh client was ended by the lab after sshd gave up"
	scn_end
}

scn_serveralive-hung() {
	scn_begin serveralive-hung "client probes (ServerAliveInterval=1, CountMax=3) to a hung server (sshd session process SIGSTOPped; TCP still ACKs); ssh gives up and closes"
	net_up
	sshd_start "${NOCA[@]}"
	cap_start client 0
	ssh_args "${CHACHA[@]}" -o ServerAliveInterval=1 -o ServerAliveCountMax=3 -o TCPKeepAlive=no
	ssh_bg ssh sleep 60
	wait_count "$D/sshd.log" "server_input_global_request: rtype keepalive@openssh.com" 3 20
	sleep 0.5
	local sp
	sp=$(session_pid) || die "no session process"
	kill -STOP "$sp"
	fault "kill -STOP on the sshd session process (sshd: root@notty)"
	ssh_wait 20
	sleep 1
	scn_end
}

scn_clientalive-hung() {
	scn_begin clientalive-hung "server probes (ClientAliveInterval=1, ~2 s on 9.2, CountMax=2) to a hung client (ssh SIGSTOPped; TCP still ACKs); sshd gives up and closes"
	net_up
	sshd_start "ClientAliveInterval 1" "ClientAliveCountMax 2" "TCPKeepAlive no"
	cap_start client 0
	ssh_args "${CHACHA[@]}" "${NOSA[@]}" -o TCPKeepAlive=no
	ssh_bg ssh sleep 60
	wait_count "$D/sshd.log" "Got [0-9]+/[0-9]+ for keepalive" 2 20
	sleep 0.5
	kill -STOP "$SSH_PID"
	fault "kill -STOP on the ssh client"
	wait_log "$D/sshd.log" "Timeout, client not responding" 20
	sleep 1
	note "the stopped ssh client was ended by the lab after sshd gave up"
	scn_end
}

scn_tcpka-dead() {
	scn_begin tcpka-dead "TCP keepalives from the client (client netns time=2 intvl=1 probes=3) unanswered after the path is dropped, until the kernel resets the connection"
	net_up
	tcpka_sysctls client
	sshd_start "${NOCA[@]}" "TCPKeepAlive no"
	cap_start client 0
	ssh_args "${CHACHA[@]}" "${NOSA[@]}" -o TCPKeepAlive=yes
	ssh_bg ssh sleep 60
	wait_log "$D/ssh.log" "Entering interactive session" 20
	sleep 5
	drop_path server
	ssh_wait 20
	sleep 1
	scn_end
}

# ---- 9: capture variants
scn_midstream() {
	scn_begin midstream "client probes (ServerAliveInterval=1); capture started 3 s after the connection (no handshake in the file)"
	net_up
	sshd_start "${NOCA[@]}"
	ssh_args "${CHACHA[@]}" -o ServerAliveInterval=1
	ssh_bg ssh sleep 14
	wait_log "$D/ssh.log" "Entering interactive session" 20
	sleep 3
	cap_start client 0
	ssh_wait 20
	scn_end
}

scn_port2222() {
	scn_begin port2222 "client probes (ServerAliveInterval=1), sshd on port 2222"
	PORT=2222
	simple "${NOCA[@]}" -- "${CHACHA[@]}" -o ServerAliveInterval=1 -- sleep 7
}

scn_ipv6() {
	scn_begin ipv6 "client probes (ServerAliveInterval=1) over IPv6 (2001:db8::1 -> 2001:db8::2)"
	net_up 6
	sshd_start "${NOCA[@]}"
	cap_start client 0
	ssh_args "${CHACHA[@]}" -o ServerAliveInterval=1
	ssh_bg ssh sleep 7
	ssh_wait 20
	scn_end
}

scn_any-sll2() {
	scn_begin any-sll2 "client probes (ServerAliveInterval=1), tcpdump -i any (LINUX_SLL2 link type)"
	net_up
	sshd_start "${NOCA[@]}"
	cap_start client 0 any
	ssh_args "${CHACHA[@]}" -o ServerAliveInterval=1
	ssh_bg ssh sleep 7
	ssh_wait 20
	scn_end
}

scn_snaplen64() {
	scn_begin snaplen64 "client probes (ServerAliveInterval=1) with a little output, captured with -s 64 (TCP headers cut short)"
	net_up
	sshd_start "${NOCA[@]}"
	cap_start client 64
	ssh_args "${CHACHA[@]}" -o ServerAliveInterval=1
	ssh_bg ssh "echo hello; sleep 3; echo again; sleep 4"
	ssh_wait 20
	scn_end
}

scn_pcapng() {
	scn_begin pcapng "client probes (ServerAliveInterval=1) written as pcapng (tcpdump capture converted with editcap -F pcapng)"
	CONVERT_PCAPNG=1
	simple "${NOCA[@]}" -- "${CHACHA[@]}" -o ServerAliveInterval=1 -- sleep 7
}

scn_multi() {
	scn_begin multi "three concurrent connections to one sshd: ServerAliveInterval=1, ServerAliveInterval=2, none"
	net_up
	sshd_start "${NOCA[@]}"
	meta sshd_log_shared 1
	cap_start client 0
	ssh_args "${CHACHA[@]}" -o ServerAliveInterval=1
	ssh_bg ssh1 sleep 10
	sleep 0.7
	ssh_args "${CHACHA[@]}" -o ServerAliveInterval=2
	ssh_bg ssh2 sleep 10
	sleep 0.7
	ssh_args "${CHACHA[@]}" "${NOSA[@]}"
	ssh_bg ssh3 sleep 10
	ssh_wait 20 ssh1
	ssh_wait 20 ssh2
	ssh_wait 20 ssh3
	scn_end
}

# ---- 10: why sessions end (each records the true end cause: end_cause)

# keys TEXT...: type each argument's characters one by one (120 ms apart); a
# number alone (e.g. 2.5) is a pause in seconds instead. To stdout.
keys() {
	local a i
	for a in "$@"; do
		if [[ $a =~ ^[0-9.]+$ ]]; then
			sleep "$a"
			continue
		fi
		for ((i = 0; i < ${#a}; i++)); do
			printf '%s' "${a:i:1}"
			sleep 0.12
		done
	done
}

# An interactive shell, as a login gives one: bash without rc files (the
# host's), a pty (ssh -tt), TMOUT as given (0: none).
shell_cmd() { echo "TMOUT=$1 exec bash --norc --noprofile -i"; }

scn_idle-drop() {
	scn_begin idle-drop "a NAT router between client and server forgets a connection after 5 s idle (conntrack established timeout 5 s, loose 0, INVALID dropped): the session survives 2-3 s pauses between keys, then the first key after 9 s idle is dropped and retransmitted unanswered; no keepalives"
	net_up_router 5
	sshd_start "${NOCA[@]}" "TCPKeepAlive no"
	cap_start client 0
	ssh_args "${CHACHA[@]}" "${NOSA[@]}" -o TCPKeepAlive=no -tt
	mkfifo "$D/stdin"
	meta typer "keys a 2.5 b 3 c, then 9 s idle, then d | ssh -tt ... cat"
	SSH_STDIN=$D/stdin ssh_bg ssh cat
	{
		keys 2 a 2.5 b 3 c
		fault "router: the session idles 9 s, longer than the router's 5 s conntrack timeout"
		meta end_cause idle-drop "the router forgot the connection after 5 s idle (nf_conntrack_tcp_timeout_established=5); the next key is dropped as INVALID"
		keys 9 d 7
	} >"$D/stdin"
	ssh_wait 2
	scn_end
}

scn_idle-drop-kept() {
	scn_begin idle-drop-kept "the same NAT router (conntrack timeout 5 s), the session kept alive by ServerAliveInterval=2 through a 9 s pause; then ^D ends the remote cat"
	net_up_router 5
	sshd_start "${NOCA[@]}" "TCPKeepAlive no"
	cap_start client 0
	ssh_args "${CHACHA[@]}" -o ServerAliveInterval=2 -o TCPKeepAlive=no -tt
	mkfifo "$D/stdin"
	meta typer "keys a 2.5 b 3 c, then 9 s idle, then d, newline, ^D | ssh -tt ... cat"
	meta end_cause user-exit "the lab typed ^D at the start of a line: the remote cat read EOF and exited"
	SSH_STDIN=$D/stdin ssh_bg ssh cat
	{
		keys 2 a 2.5 b 3 c 9 d 1
		printf '\r'
		sleep 0.5
		printf '\004'
		sleep 2
	} >"$D/stdin"
	ssh_wait 10
	scn_end
}

# tmout_run SSH_OPTIONS...: an idle interactive shell with TMOUT=3
tmout_run() {
	net_up
	sshd_start "${NOCA[@]}"
	cap_start client 0
	ssh_args "${CHACHA[@]}" "$@" -tt
	mkfifo "$D/stdin"
	meta typer "nothing typed; stdin held open 14 s"
	SSH_STAMP_OUT=1 SSH_STDIN=$D/stdin ssh_bg ssh "$(shell_cmd 3)"
	sleep 14 >"$D/stdin" &
	BG_PIDS+=($!)
	ssh_wait 20
	scn_end
}

scn_tmout() {
	scn_begin tmout "idle interactive shell with TMOUT=3 (ssh -tt, bash -i): bash logs the user out after 3 s without input; no keepalives"
	tmout_run "${NOSA[@]}"
}

scn_tmout-serveralive() {
	scn_begin tmout-serveralive "idle interactive shell with TMOUT=3 and ServerAliveInterval=1: keepalives are answered, yet bash logs the user out after 3 s without input"
	tmout_run -o ServerAliveInterval=1
}

scn_user-exit() {
	scn_begin user-exit "interactive shell (ssh -tt, bash -i): the user types 'echo hi', then 'exit'; no keepalives"
	net_up
	sshd_start "${NOCA[@]}"
	cap_start client 0
	ssh_args "${CHACHA[@]}" "${NOSA[@]}" -tt
	mkfifo "$D/stdin"
	meta typer "keys 'echo hi\\r' 2 'exit\\r' | ssh -tt ... bash -i"
	meta end_cause user-exit "the lab typed exit"
	SSH_STAMP_OUT=1 SSH_STDIN=$D/stdin ssh_bg ssh "$(shell_cmd 0)"
	{
		keys 2 "echo hi"$'\r' 2 "exit"$'\r' 3
	} >"$D/stdin"
	ssh_wait 10
	scn_end
}
