# shellcheck shell=bash
# lab/scenarios.d/paths.sh: OpenSSH 9.2 keepalives over emulated paths
# (delay, loss, reordering, duplication, a bottleneck, a blackhole), sourced
# by lab/captures.sh. The path is lab/pathemu in a middle namespace
# (lab/pathemu.sh: net_up_path); every path parameter and the seed are in the
# meta, and what the path did (its counters) too. Truth from the endpoints'
# DEBUG3 logs as usual.
# Packages (Debian 12): ethtool, iputils-ping (the path's RTT check), golang.

# shellcheck source=lab/pathemu.sh
. "$LAB_DIR/pathemu.sh"

SCENARIOS+=(
	rtt80-serveralive
	rtt600-serveralive
	rtt1500-serveralive
	rtt600-clientalive
	rtt600-clientalive-server-side
	rtt80-clientalive
	rtt1500-clientalive
	loss3-typing
	reorder-dup
	bulk-bottleneck
	bulk-other-connection
	tcpka-rtt300-blackhole
)

PATH_SEED=${PATH_SEED:-1}

# path_session SIDE SNAPLEN SSHD_LINES... -- SSH_OPTIONS... -- REMOTE COMMAND:
# the common shape over a path already up: sshd, capture, ssh to its end.
path_session() {
	local side=$1 snap=$2 sshd=() opts=()
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do sshd+=("$1"); shift; done
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	sshd_start "${sshd[@]}"
	cap_start "$side" "$snap"
	ssh_args "${opts[@]}"
	ssh_bg ssh "$@"
	ssh_wait 60
	sleep 1
	path_stop
	scn_end
}

scn_rtt80-serveralive() {
	scn_begin rtt80-serveralive "client probes (ServerAliveInterval=2) over an 80 ms RTT path (40 ms each way, lab/pathemu); remote sleep 16"
	net_up_path -delay 40ms -seed "$PATH_SEED" -max-duration 90s
	path_session client 0 "${NOCA[@]}" -- "${CHACHA[@]}" -o ServerAliveInterval=2 -- sleep 16
}

scn_rtt600-serveralive() {
	scn_begin rtt600-serveralive "client probes (ServerAliveInterval=2) over a 600 ms RTT path (300 ms each way, lab/pathemu); remote sleep 18"
	net_up_path -delay 300ms -seed "$PATH_SEED" -max-duration 90s
	path_session client 0 "${NOCA[@]}" -- "${CHACHA[@]}" -o ServerAliveInterval=2 -- sleep 18
}

scn_rtt1500-serveralive() {
	scn_begin rtt1500-serveralive "client probes (ServerAliveInterval=3) over a 1.5 s RTT path (750 ms each way, lab/pathemu): the reply comes back after the next whole-second check; remote sleep 22"
	net_up_path -delay 750ms -seed "$PATH_SEED" -max-duration 100s
	path_session client 0 "${NOCA[@]}" -- "${CHACHA[@]}" -o ServerAliveInterval=3 -- sleep 22
}

scn_rtt600-clientalive() {
	scn_begin rtt600-clientalive "server probes (sshd 9.2 ClientAliveInterval=2, spaced ~2 x 2 s + RTT) over a 600 ms RTT path (lab/pathemu); captured at the client; remote sleep 18"
	net_up_path -delay 300ms -seed "$PATH_SEED" -max-duration 90s
	path_session client 0 "ClientAliveInterval 2" -- "${CHACHA[@]}" "${NOSA[@]}" -- sleep 18
}

scn_rtt600-clientalive-server-side() {
	scn_begin rtt600-clientalive-server-side "server probes (sshd 9.2 ClientAliveInterval=2) over a 600 ms RTT path (lab/pathemu); captured at the server: replies 600 ms after the probes, same intervals; remote sleep 18"
	net_up_path -delay 300ms -seed "$PATH_SEED" -max-duration 90s
	path_session server 0 "ClientAliveInterval 2" -- "${CHACHA[@]}" "${NOSA[@]}" -- sleep 18
}

scn_rtt80-clientalive() {
	scn_begin rtt80-clientalive "server probes (sshd 9.2 ClientAliveInterval=2, ClientAliveCountMax 10, spaced ~2 x 2 s + RTT) over an 80 ms RTT path (40 ms each way, lab/pathemu); captured at the client; remote sleep 16"
	net_up_path -delay 40ms -seed "$PATH_SEED" -max-duration 90s
	path_session client 0 "ClientAliveInterval 2" "ClientAliveCountMax 10" -- "${CHACHA[@]}" "${NOSA[@]}" -- sleep 16
}

scn_rtt1500-clientalive() {
	# the session starts ~12 RTTs (~18 s) after the SYN; then probes ~5.5 s
	# apart (2 x 2 s + 1.5 s): 3 of them in 20 s, none close to its end
	scn_begin rtt1500-clientalive "server probes (sshd 9.2 ClientAliveInterval=2, ClientAliveCountMax 10, spaced ~2 x 2 s + RTT) over a 1.5 s RTT path (750 ms each way, lab/pathemu); captured at the client; remote sleep 20"
	net_up_path -delay 750ms -seed "$PATH_SEED" -max-duration 100s
	path_session client 0 "ClientAliveInterval 2" "ClientAliveCountMax 10" -- "${CHACHA[@]}" "${NOSA[@]}" -- sleep 20
}

scn_loss3-typing() {
	scn_begin loss3-typing "typing through a pty (ssh -tt, remote cat) with ServerAliveInterval=2 over a lossy path: 3 % loss each way, 40 ms RTT (lab/pathemu): retransmitted keystrokes and probes"
	# seed 2: in the runs so far a probe was among the lost frames (and
	# retransmitted); which frames are lost depends on the frame sequence,
	# which the typing and the probes' timing vary a little from run to run
	net_up_path -delay 20ms -loss 0.03 -seed "${PATH_SEED_LOSS:-2}" -max-duration 90s
	sshd_start "${NOCA[@]}"
	cap_start client 0
	ssh_args "${CHACHA[@]}" -o ServerAliveInterval=2 -tt
	typing_run 13 45 9 3.0 5.0
	sleep 1
	path_stop
	scn_end
}

scn_reorder-dup() {
	scn_begin reorder-dup "client probes (ServerAliveInterval=1) over a 40 ms RTT path that holds 5 % of frames back 15 ms (reordering) and duplicates 5 % (lab/pathemu); remote sleep 16"
	net_up_path -delay 20ms -reorder 0.05 -reorder-by 15ms -dup 0.05 -seed "$PATH_SEED" -max-duration 90s
	path_session client 0 "${NOCA[@]}" -- "${CHACHA[@]}" -o ServerAliveInterval=1 -- sleep 16
}

# path_congctl CC: TCP congestion control CC (e.g. cubic, Linux's default)
# for the connections between client and server, whatever the host's: set per
# route (ip route add PEER/32 dev eth0 congctl CC) in both namespaces. A
# namespace's net.ipv4.tcp_congestion_control can only be set to one in the
# host's net.ipv4.tcp_allowed_congestion_control (EPERM otherwise; on a host
# with "reno bbr" there, cubic is refused), a route's congctl to any the
# kernel has (net.ipv4.tcp_available_congestion_control).
path_congctl() {
	grep -qw "$1" /proc/sys/net/ipv4/tcp_available_congestion_control || die "congestion control $1 not available"
	ip -n "$NSC" route add "$S4/32" dev eth0 congctl "$1" || die "ip route add $S4/32 congctl $1 in $NSC"
	ip -n "$NSS" route add "$C4/32" dev eth0 congctl "$1" || die "ip route add $C4/32 congctl $1 in $NSS"
	note "TCP congestion control $1 on both ends, per route (client: ip route add $S4/32 dev eth0 congctl $1; server: ip route add $C4/32 dev eth0 congctl $1); the namespaces' default (net.ipv4.tcp_congestion_control) is $(ip netns exec "$NSC" sysctl -n net.ipv4.tcp_congestion_control)"
}

# path_congctl_seen: record the congestion control each established
# connection uses, as the server's kernel reports it (ss -ti).
path_congctl_seen() {
	local l
	l=$(ip netns exec "$NSS" ss -Htin state established "( sport = :$PORT )" |
		awk '/^ *[0-9]/ { peer = $4 } /rtt:/ { n = split($0, w, " "); for (i = 1; i <= n; i++) if (w[i] ~ /^(cubic|bbr|reno|bbr2|htcp|vegas|westwood|dctcp)$/) printf "%s%s %s", sep, peer, w[i]; sep = "; " }')
	note "congestion control in use (server's ss -ti, $(date -u +%T)): ${l:-(none seen)}"
	log "congestion control: ${l:-(none seen)}"
}

scn_bulk-bottleneck() {
	scn_begin bulk-bottleneck "ServerAliveInterval=2 with a bulk download on the same connection (18 MB of zeros, ~15 s) through a 10 Mbit/s bottleneck with a 200-frame queue (tail drop), 40 ms RTT (lab/pathemu), TCP cubic; then 6 s idle; snaplen 128"
	net_up_path -delay 20ms -rate 10000000 -queue 200 -seed "$PATH_SEED" -max-duration 90s
	# cubic per route (BBR, where it is the host's default, keeps the queue
	# short: no tail drop to see; the sysctl may not allow cubic)
	path_congctl cubic
	sshd_start "${NOCA[@]}"
	cap_start client 128
	ssh_args "${CHACHA[@]}" -o ServerAliveInterval=2
	ssh_bg ssh "head -c 18000000 /dev/zero; sleep 6"
	sleep 3
	path_congctl_seen
	ssh_wait 60
	sleep 1
	path_stop
	scn_end
}

scn_bulk-other-connection() {
	scn_begin bulk-other-connection "two connections to one sshd through a 10 Mbit/s bottleneck with a 200-frame queue (tail drop), 40 ms RTT (lab/pathemu), TCP cubic: A idle with ServerAliveInterval=2 (remote sleep 20); B, started 3 s later, downloads 16 MB of zeros (~13 s, no keepalives): A's replies queue behind B's bulk; snaplen 128"
	net_up_path -delay 20ms -rate 10000000 -queue 200 -seed "$PATH_SEED" -max-duration 90s
	path_congctl cubic
	sshd_start "${NOCA[@]}"
	meta sshd_log_shared 1
	cap_start client 128
	ssh_args "${CHACHA[@]}" -o ServerAliveInterval=2
	ssh_bg ssh1 sleep 20
	sleep 3
	ssh_args "${CHACHA[@]}" "${NOSA[@]}"
	ssh_bg ssh2 head -c 16000000 /dev/zero
	sleep 3
	path_congctl_seen
	ssh_wait 60 ssh1
	ssh_wait 60 ssh2
	sleep 1
	path_stop
	scn_end
}

scn_tcpka-rtt300-blackhole() {
	scn_begin tcpka-rtt300-blackhole "TCP keepalives from the client (client netns time=3 intvl=1 probes=3, no SSH keepalives) over a 300 ms RTT path (lab/pathemu); the path blackholes 16 s after it came up, the client's kernel gives up and resets"
	net_up_path -delay 150ms -blackhole-after 16s -seed "$PATH_SEED" -max-duration 90s
	ns_sysctl client net.ipv4.tcp_keepalive_time 3
	ns_sysctl client net.ipv4.tcp_keepalive_intvl 1
	ns_sysctl client net.ipv4.tcp_keepalive_probes 3
	sshd_start "${NOCA[@]}" "TCPKeepAlive no"
	cap_start client 0
	ssh_args "${CHACHA[@]}" "${NOSA[@]}" -o TCPKeepAlive=yes
	ssh_bg ssh sleep 60
	if wait_log "$D/pathemu.log" "pathemu blackhole " 30; then
		meta fault "the path (lab/pathemu -blackhole-after 16s) DROPs every frame both ways from then on"
		meta fault_at "$(awk '/pathemu blackhole /{print $4; exit}' "$D/pathemu.log")"
		log "fault: blackhole"
	fi
	ssh_wait 30
	sleep 1
	path_stop
	scn_end
}
