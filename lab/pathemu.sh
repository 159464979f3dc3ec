# shellcheck shell=bash
# lab/pathemu.sh: an emulated network path between the client and the server
# (sourced after lab/lib.sh). This kernel has no sch_netem, so the middle
# namespace runs lab/pathemu, which forwards Ethernet frames between its two
# veth ends itself (AF_PACKET, no IP forwarding) and delays, jitters, drops,
# reorders, duplicates and rate-limits them per direction.
#
#   sa-NAME-c eth0 198.18.0.1/24 = c0 [sa-NAME-p: pathemu] s0 = eth0 198.18.0.2/24 sa-NAME-s
#
# Both ends are in one /24: to the endpoints the path is one Ethernet link.
# Package: ethtool (offloads off, so frames are not merged or split, and
# checksums are complete: a frame read from AF_PACKET and sent on carries
# whatever checksum the sender's stack wrote).

PATHEMU_PID=""
PATHEMU_BIN=""

# net_up_path PATHEMU_ARGS...: three namespaces and pathemu between them,
# e.g. net_up_path -delay 40ms -seed 1 -max-duration 60s. The lab's teardown
# (scn_end/scn_cleanup) removes sa-NAME-p like the router namespace; call
# path_stop before scn_end to record what the path did.
net_up_path() {
	command -v ethtool >/dev/null || die "ethtool missing (apt-get install ethtool)"
	PATHEMU_BIN=$WORK/.bin/pathemu
	mkdir -p "$WORK/.bin"
	(cd "$REPO_DIR" && go build -o "$PATHEMU_BIN" ./lab/pathemu) || die "go build ./lab/pathemu"
	NSR=sa-$S-p
	local ns
	ns_del "$NSC"
	ns_del "$NSR"
	ns_del "$NSS"
	for ns in "$NSC" "$NSR" "$NSS"; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	done
	ip -n "$NSC" link add eth0 type veth peer name c0 netns "$NSR"
	ip -n "$NSS" link add eth0 type veth peer name s0 netns "$NSR"
	ip netns exec "$NSR" sysctl -qw net.ipv4.ip_forward=0
	ip -n "$NSC" addr add "$C4/24" dev eth0
	ip -n "$NSS" addr add "$S4/24" dev eth0
	path_offloads_off "$NSC" eth0
	path_offloads_off "$NSR" c0
	path_offloads_off "$NSR" s0
	path_offloads_off "$NSS" eth0
	ip -n "$NSR" link set c0 promisc on up
	ip -n "$NSR" link set s0 promisc on up
	ip -n "$NSC" link set eth0 up
	ip -n "$NSS" link set eth0 up
	# shellcheck disable=SC2034 # read by lib.sh (sshd_start, ssh_args)
	SADDR=$S4
	meta ip ""
	meta router "$C4 - [pathemu in $NSR: c0 = s0, Ethernet frames forwarded by lab/pathemu] - $S4"
	meta pathemu "$*"
	note "path: lab/pathemu $*"
	# real-time priority: the host's load must not shape the path
	ip netns exec "$NSR" chrt -f 50 "$PATHEMU_BIN" -a c0 -b s0 "$@" 2> >(stamp >"$D/pathemu.log") &
	PATHEMU_PID=$!
	BG_PIDS+=("$PATHEMU_PID")
	wait_log "$D/pathemu.log" "pathemu s2c " 10 || die "pathemu did not start: $(cat "$D/pathemu.log")"
	grep -E "pathemu (c2s|s2c) " "$D/pathemu.log" | sed 's/^[0-9.]* //' | while read -r line; do meta path_params "$line"; done
	path_ping
}

path_offloads_off() {
	ip netns exec "$1" ethtool -K "$2" gro off gso off tso off tx off >/dev/null 2>&1 ||
		die "ethtool -K $2 in $1 failed"
}

# path_ping: pings client→server through the path before anything else:
# one to resolve ARP, then 5 whose RTT is recorded (meta path_ping).
path_ping() {
	local out
	ip netns exec "$NSC" ping -n -c 1 -W 5 "$S4" >/dev/null 2>&1
	out=$(ip netns exec "$NSC" ping -n -c 5 -i 0.2 -W 5 "$S4" 2>&1 | tail -1)
	meta path_ping "$out"
	log "path ping: $out"
}

# path_stop: end pathemu (SIGTERM, bounded wait) and record its counters
# (meta path_counters DIR ...; a note per direction).
path_stop() {
	[ -n "$PATHEMU_PID" ] || return 0
	local line
	# pathemu forwards what is still in flight (-drain, 5 s at most), then exits
	kill -TERM "$PATHEMU_PID" 2>/dev/null
	for _ in $(seq 70); do
		kill -0 "$PATHEMU_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$PATHEMU_PID" 2>/dev/null
	wait "$PATHEMU_PID" 2>/dev/null
	PATHEMU_PID=""
	sleep 0.2 # the stamper flushes
	while read -r line; do
		meta path_counters "$line"
		note "path did: $line"
		log "$line"
	done < <(grep -E "pathemu (c2s|s2c) received=" "$D/pathemu.log" | sed 's/^[0-9.]* pathemu //')
}
