# shellcheck shell=bash
# lab/scenarios.d/long.sh: longer timers and silences close to a NAT's
# timeout (sourced by lab/captures.sh). OpenSSH 9.2 on both ends.
#   long-intervals           ServerAliveInterval 15 against ClientAliveInterval 10
#                            (sshd 9.2: ~20 s) over ~100 s: who probes, how often
#   idle-drop-near           a NAT (conntrack established timeout 10 s) survives
#                            6 s and 8 s silences, forgets the connection at 11.5 s
#   typed-into-forgotten-nat the same, the fatal line sent at once: a 52-byte
#                            segment (the size of a chacha20 keepalive probe)
# Every scenario is bounded (remote sleep or a fixed feeder, ssh_wait limits).
# Packages (Debian 12): openssh-client openssh-server perl iptables tcpdump.

SCENARIOS+=(
	long-intervals
	idle-drop-near
	typed-into-forgotten-nat
)

scn_long-intervals() {
	scn_begin long-intervals "ServerAliveInterval=15 and sshd ClientAliveInterval=10 (sshd 9.2 fires every ~20 s), chacha20-poly1305, remote 'sleep 100', nothing typed: over ~100 s the side with the shorter effective period probes"
	net_up
	sshd_start "ClientAliveInterval 10" "ClientAliveCountMax 3"
	cap_start client 0
	ssh_args "${CHACHA[@]}" -o ServerAliveInterval=15 -o ServerAliveCountMax=3
	ssh_bg ssh sleep 100
	ssh_wait 130
	meta end_cause command-ended "the remote command (sleep 100) ended by itself; nothing was typed and no idle timer was set; $(exit_evidence ssh)"
	scn_end
}

# near_drop_run SENDLAST: the NAT router (conntrack established timeout 10 s)
# between client and server, no keepalives (ServerAliveInterval 0,
# ClientAliveInterval 0, TCPKeepAlive no), ssh -tt to a remote cat. The lab
# types a line after 6 s and after 8 s of silence (both survive), then, after
# 11.5 s of silence, the fatal line: typed key by key (SENDLAST=keys) or
# written at once (SENDLAST=once, 15 characters and CR: one 52-byte segment
# under chacha20-poly1305). Then ~10 s of retransmissions, and the lab ends ssh.
near_drop_run() {
	local how=$1
	net_up_router 10
	sshd_start "${NOCA[@]}" "TCPKeepAlive no"
	cap_start client 0
	ssh_args "${CHACHA[@]}" "${NOSA[@]}" -o TCPKeepAlive=no -tt
	mkfifo "$D/stdin"
	if [ "$how" = once ]; then
		meta typer "keys 'ls\\r' 6 'pwd\\r' 8 'id\\r', then 11.5 s idle, then 'echo lab-hello-1\\r' (16 bytes in one write) | ssh -tt ... cat"
	else
		meta typer "keys 'ls\\r' 6 'pwd\\r' 8 'id\\r', then 11.5 s idle, then 'date\\r' | ssh -tt ... cat"
	fi
	SSH_STDIN=$D/stdin ssh_bg ssh cat
	{
		# the silences are measured from the last key (its echo comes back
		# within a millisecond on the veth path)
		keys 2 "ls"$'\r' 6 "pwd"$'\r' 8 "id"$'\r'
		fault "router: the session idles 11.5 s, longer than the router's 10 s conntrack timeout (after surviving 6 s and 8 s)"
		meta end_cause idle-drop "the router forgot the connection after 10 s idle (nf_conntrack_tcp_timeout_established=10); the next key is dropped as INVALID, retransmitted and never acknowledged; the lab then ended ssh"
		sleep 11.5
		if [ "$how" = once ]; then
			printf 'echo lab-hello-1\r'
		else
			keys "date"$'\r'
		fi
		sleep 10
	} >"$D/stdin"
	ssh_wait 2
	scn_end
}

scn_idle-drop-near() {
	scn_begin idle-drop-near "a NAT router forgets a connection after 10 s idle (conntrack established timeout 10 s, loose 0, INVALID dropped): the session survives 6 s and 8 s silences between typed lines, then the first key after 11.5 s idle is dropped and retransmitted unanswered; no keepalives"
	near_drop_run keys
}

scn_typed-into-forgotten-nat() {
	scn_begin typed-into-forgotten-nat "like idle-drop-near (NAT forgets after 10 s; 6 s and 8 s silences survived), but after 11.5 s idle a 16-byte line is sent in one write: one 52-byte chacha20 segment, the size of a keepalive probe, retransmitted unanswered; no keepalives (ServerAliveInterval 0)"
	near_drop_run once
}
