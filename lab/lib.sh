# lab/lib.sh: helpers for lab/captures.sh (sourced, bash). Everything runs in
# network namespaces this script creates (sa-NAME-c, sa-NAME-s) joined by one
# veth pair; addresses 198.18.0.1 (client) / 198.18.0.2 (server), or
# 2001:db8::1 / 2001:db8::2. Nothing here talks to any other host.

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$LAB_DIR")
WORK=$LAB_DIR/scratch
OUT=$REPO_DIR/testdata/pcaps
KEYS=$WORK/keys
SSHD_BIN=/usr/sbin/sshd

C4=198.18.0.1
S4=198.18.0.2
C6=2001:db8::1
S6=2001:db8::2
# router scenarios (net_up_router): client 198.18.0.1 - router 198.18.0.254 |
# router 198.18.1.254 - server 198.18.1.2, the router doing NAT
R4C=198.18.0.254
R4S=198.18.1.254
S4R=198.18.1.2

# Per-scenario state, set by scn_begin.
S=""        # scenario name
D=""        # its live directory (tmpfs), moved to lab/scratch/NAME at the end
NSC=""      # client namespace
NSS=""      # server namespace
NSR=""      # router namespace (net_up_router only)
SADDR=""    # server address as ssh sees it
PORT=22
SSHD_PID=""
TCPDUMP_PID=""
SSH_PID=""
declare -A SSH_PIDS=()
BG_PIDS=()

log() { printf '[%s] %s: %s\n' "$(date +%T)" "${S:-lab}" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# stamp: prefix every line read on stdin with the wall-clock time (µs).
stamp() { exec perl -MTime::HiRes=time -ne '$|=1; printf "%.6f %s", time, $_'; }

now() { perl -MTime::HiRes=time -e 'printf "%.6f\n", time'; }

# meta KEY VALUE...: one tab-separated line of the scenario's description,
# read by lab/truth (see lab/truth/meta.go).
meta() { local IFS=$'\t'; printf '%s\n' "$*" >>"$D/meta.tsv"; }

keys_init() {
	[ -f "$KEYS/id_ed25519" ] && [ -f "$KEYS/host_ed25519" ] && return 0
	mkdir -p "$KEYS"
	rm -f "$KEYS"/*
	ssh-keygen -q -t ed25519 -N '' -C sa-lab-host -f "$KEYS/host_ed25519"
	ssh-keygen -q -t ed25519 -N '' -C sa-lab-user -f "$KEYS/id_ed25519"
	cp "$KEYS/id_ed25519.pub" "$KEYS/authorized_keys"
	chmod 600 "$KEYS/host_ed25519" "$KEYS/id_ed25519"
}

# scn_begin NAME "one line of what it shows"
scn_begin() {
	S=$1
	# Logs and the capture are written to tmpfs while the scenario runs: a log
	# writer blocked on a busy disk would stall ssh/sshd (they block on a full
	# stderr pipe) and delay the line stamps.
	rm -rf "$WORK/$S"
	D=$(mktemp -d "${SA_LIVE_DIR:-/dev/shm}/sa-lab-$S.XXXXXX" 2>/dev/null) || D=$(mktemp -d "$WORK/.live-$S.XXXXXX")
	NSC=sa-$S-c
	NSS=sa-$S-s
	NSR=""
	PORT=22
	SADDR=$S4
	SSHD_PID="" TCPDUMP_PID="" SSH_PID=""
	BG_PIDS=()
	rm -rf "$D"
	mkdir -p "$D"
	: >"$D/meta.tsv"
	meta name "$S"
	meta scenario "$2"
	meta started "$(now)"
	trap 'scn_cleanup' EXIT
	trap 'exit 130' INT TERM
	log "begin: $2"
}

# net_up [6]: two namespaces and a veth pair; IPv6 only if asked.
net_up() {
	local v6=${1:-}
	ns_del "$NSC"
	ns_del "$NSS"
	ip netns add "$NSC"
	ip netns add "$NSS"
	ip -n "$NSC" link add eth0 type veth peer name eth0 netns "$NSS"
	local ns
	for ns in "$NSC" "$NSS"; do
		ip -n "$ns" link set lo up
		if [ "$v6" != 6 ]; then
			# no IPv6 autoconf noise (router/neighbour solicitations, MLD)
			ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
		fi
	done
	if [ "$v6" = 6 ]; then
		ip -n "$NSC" -6 addr add "$C6/64" dev eth0 nodad
		ip -n "$NSS" -6 addr add "$S6/64" dev eth0 nodad
		SADDR=$S6
	else
		ip -n "$NSC" addr add "$C4/24" dev eth0
		ip -n "$NSS" addr add "$S4/24" dev eth0
	fi
	ip -n "$NSC" link set eth0 up
	ip -n "$NSS" link set eth0 up
	meta ip "$v6"
}

# net_up_router TIMEOUT: three namespaces, client - router - server (sa-NAME-r
# in the middle). The router forwards and NATs (iptables MASQUERADE towards the
# server) and forgets an established connection after TIMEOUT s of silence
# (nf_conntrack_tcp_timeout_established, set in the router namespace only);
# with nf_conntrack_tcp_loose=0 a packet of a forgotten connection is INVALID
# and dropped, as a cloud NAT drops it silently.
net_up_router() {
	local timeout=$1 ns
	NSR=sa-$S-r
	ns_del "$NSC"
	ns_del "$NSR"
	ns_del "$NSS"
	ip netns add "$NSC"
	ip netns add "$NSR"
	ip netns add "$NSS"
	ip -n "$NSC" link add eth0 type veth peer name c0 netns "$NSR"
	ip -n "$NSS" link add eth0 type veth peer name s0 netns "$NSR"
	for ns in "$NSC" "$NSR" "$NSS"; do
		ip -n "$ns" link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	done
	ip -n "$NSC" addr add "$C4/24" dev eth0
	ip -n "$NSR" addr add "$R4C/24" dev c0
	ip -n "$NSR" addr add "$R4S/24" dev s0
	ip -n "$NSS" addr add "$S4R/24" dev eth0
	ip -n "$NSC" link set eth0 up
	ip -n "$NSR" link set c0 up
	ip -n "$NSR" link set s0 up
	ip -n "$NSS" link set eth0 up
	ip -n "$NSC" route add default via "$R4C"
	ip -n "$NSS" route add default via "$R4S"
	ip netns exec "$NSR" sysctl -qw net.ipv4.ip_forward=1
	ip netns exec "$NSR" iptables -t nat -A POSTROUTING -o s0 -j MASQUERADE
	ip netns exec "$NSR" iptables -A FORWARD -m conntrack --ctstate INVALID -j DROP
	ip netns exec "$NSR" sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0
	ip netns exec "$NSR" sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_established="$timeout"
	local k
	for k in net.netfilter.nf_conntrack_tcp_timeout_established net.netfilter.nf_conntrack_tcp_loose; do
		meta sysctl router "$k" "$(ip netns exec "$NSR" sysctl -n "$k")"
	done
	meta router "$C4 - $R4C [router: MASQUERADE to $S4R, conntrack INVALID dropped] $R4S - $S4R"
	SADDR=$S4R
	meta ip router
}

ns_del() {
	ip netns list 2>/dev/null | grep -qw "^$1" || return 0
	ns_kill "$1"
	ip netns del "$1" 2>/dev/null || true
}

# ns_kill NS: end every process left in a namespace this lab created.
ns_kill() {
	local pids p
	pids=$(ip netns pids "$1" 2>/dev/null) || return 0
	[ -n "$pids" ] || return 0
	for p in $pids; do kill -CONT "$p" 2>/dev/null; kill -TERM "$p" 2>/dev/null; done
	sleep 0.3
	pids=$(ip netns pids "$1" 2>/dev/null)
	for p in $pids; do kill -KILL "$p" 2>/dev/null; done
	return 0
}

# ns_sysctl client|server KEY VALUE: set (and record) a sysctl in one namespace.
ns_sysctl() {
	local ns=$NSC
	[ "$1" = server ] && ns=$NSS
	ip netns exec "$ns" sysctl -qw "$2=$3"
	meta sysctl "$1" "$2" "$(ip netns exec "$ns" sysctl -n "$2")"
}

# sshd_start [CONFIG LINE...]: a throwaway sshd in the server namespace. It
# runs with -D -e (forks per connection, logs at DEBUG3 to stderr, stamped).
sshd_start() {
	mkdir -p /run/sshd
	local cfg=$D/sshd_config line
	{
		echo "Port $PORT"
		echo "ListenAddress $SADDR"
		echo "HostKey $KEYS/host_ed25519"
		echo "AuthorizedKeysFile $KEYS/authorized_keys"
		echo "PidFile none"
		echo "PermitRootLogin prohibit-password"
		echo "PasswordAuthentication no"
		echo "KbdInteractiveAuthentication no"
		echo "UsePAM no"
		echo "StrictModes no"
		echo "LogLevel DEBUG3"
		echo "PrintMotd no"
		echo "PrintLastLog no"
		echo "Subsystem sftp internal-sftp"
	} >"$cfg"
	for line in "$@"; do
		echo "$line" >>"$cfg"
		meta sshd_config "$line"
	done
	meta port "$PORT"
	ip netns exec "$NSS" "$SSHD_BIN" -t -f "$cfg" || die "sshd -t failed"
	ip netns exec "$NSS" "$SSHD_BIN" -D -e -f "$cfg" 2> >(stamp >"$D/sshd.log") &
	SSHD_PID=$!
	BG_PIDS+=("$SSHD_PID")
	local i
	for i in $(seq 50); do
		ip netns exec "$NSS" ss -Hltn "sport = :$PORT" | grep -q LISTEN && return 0
		sleep 0.1
	done
	die "sshd did not start"
}

# cap_start client|server SNAPLEN [IFACE] [FILE]: tcpdump in a namespace.
CAP_FILE="" CAP_CMD=""
cap_start() {
	local side=$1 snap=$2 ifc=${3:-eth0} ns=$NSC
	[ "$side" = server ] && ns=$NSS
	CAP_FILE=$D/$S.pcap
	CAP_CMD="tcpdump -i $ifc --immediate-mode -U -s $snap -w $S.pcap"
	ip netns exec "$ns" tcpdump -i "$ifc" --immediate-mode -U -s "$snap" -Z root -w "$CAP_FILE" 2>"$D/tcpdump.log" &
	TCPDUMP_PID=$!
	BG_PIDS+=("$TCPDUMP_PID")
	meta capture "$CAP_CMD"
	meta capture_side "$side"
	local i
	for i in $(seq 50); do
		grep -q "listening on" "$D/tcpdump.log" 2>/dev/null && { meta cap_start "$(now)"; sleep 0.2; return 0; }
		sleep 0.1
	done
	die "tcpdump did not start"
}

cap_stop() {
	[ -n "$TCPDUMP_PID" ] || return 0
	sleep 0.3
	meta cap_stop "$(now)"
	kill -INT "$TCPDUMP_PID" 2>/dev/null
	wait "$TCPDUMP_PID" 2>/dev/null
	TCPDUMP_PID=""
}

# ssh_args [OPTION...]: the client command line (without the remote command).
SSH_OPTS=()
ssh_args() {
	SSH_OPTS=("$@")
	SSH_ARGV=(ssh -vvv -F /dev/null -i "$KEYS/id_ed25519" -o IdentitiesOnly=yes
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
		-o LogLevel=DEBUG3 -p "$PORT" "$@" "root@$SADDR")
}

# ssh_bg LOGNAME [REMOTE COMMAND...]: start ssh in the client namespace in the
# background; stdin from /dev/null unless SSH_STDIN is set.
ssh_bg() {
	local logname=$1
	shift
	meta client "$logname" "$(now)"
	local o
	for o in "${SSH_OPTS[@]}"; do meta ssh_option "$logname" "$o"; done
	meta ssh_command "$logname" "$*"
	local in=${SSH_STDIN:-/dev/null}
	if [ "${SSH_STAMP_OUT:-}" = 1 ]; then
		# what the user saw, each line stamped (e.g. bash's "auto-logout")
		ip netns exec "$NSC" "${SSH_ARGV[@]}" "$@" <"$in" > >(stamp >"$D/$logname.out") 2> >(stamp >"$D/$logname.log") &
	else
		ip netns exec "$NSC" "${SSH_ARGV[@]}" "$@" <"$in" >"$D/$logname.out" 2> >(stamp >"$D/$logname.log") &
	fi
	SSH_PID=$!
	SSH_PIDS[$logname]=$SSH_PID
	BG_PIDS+=("$SSH_PID")
}

# ssh_wait SECONDS [LOGNAME]: wait (bounded) for an ssh_bg (default the last);
# records its exit code.
ssh_wait() {
	local limit=$1 name=${2:-} i rc
	[ -n "$name" ] && SSH_PID=${SSH_PIDS[$name]}
	[ -n "$name" ] || name=$(for k in "${!SSH_PIDS[@]}"; do [ "${SSH_PIDS[$k]}" = "$SSH_PID" ] && echo "$k"; done)
	for i in $(seq $((limit * 10))); do
		kill -0 "$SSH_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$SSH_PID" 2>/dev/null; then
		log "ssh still running after ${limit}s: ending it"
		kill -CONT "$SSH_PID" 2>/dev/null
		kill -TERM "$SSH_PID" 2>/dev/null
		sleep 0.2
		kill -KILL "$SSH_PID" 2>/dev/null
	fi
	wait "$SSH_PID" 2>/dev/null
	rc=$?
	meta ssh_exit "$name" "$rc"
	log "ssh ($name) exit $rc"
	return 0
}

# ---- other implementations (PuTTY, Dropbear, paramiko, ...) against OpenSSH.
# The OpenSSH peer (sshd at DEBUG3, or ssh -vvv) is the witness: lab/truth
# reads from its log what the other side sent (lab/truth/peers.go). These
# helpers record what the lab ran and configured, in the meta lines the truth
# reads ("impl" has the same shape as impl_bg's in lab/scenarios.d/impl2.sh).

PEER_PID=""
PEER_ENV=()
declare -A PEER_PIDS=()

# peer_bg client|server LOGNAME ARGV...: start a non-OpenSSH client (in the
# client namespace) or server (in the server namespace) in the background;
# its stderr stamped into $D/LOGNAME.log, its stdout into $D/LOGNAME.out
# (stamped too with PEER_STAMP_OUT=1); stdin from /dev/null unless PEER_STDIN
# is set; PEER_ENV=(KEY=VALUE...) goes to its environment (e.g. a HOME under
# $D). Records "impl SIDE LOGNAME COMMAND" (PEER_SHOWN instead of the
# command line when set, e.g. without a wrapper) and "impl_started LOGNAME TIME".
peer_bg() {
	local side=$1 logname=$2 ns=$NSC
	shift 2
	[ "$side" = server ] && ns=$NSS
	meta impl "$side" "$logname" "${PEER_SHOWN:-$*}"
	meta impl_started "$logname" "$(now)"
	local in=${PEER_STDIN:-/dev/null}
	if [ "${PEER_STAMP_OUT:-}" = 1 ]; then
		ip netns exec "$ns" env "${PEER_ENV[@]}" "$@" <"$in" > >(stamp >"$D/$logname.out") 2> >(stamp >"$D/$logname.log") &
	else
		ip netns exec "$ns" env "${PEER_ENV[@]}" "$@" <"$in" >"$D/$logname.out" 2> >(stamp >"$D/$logname.log") &
	fi
	PEER_PID=$!
	PEER_PIDS[$logname]=$PEER_PID
	BG_PIDS+=("$PEER_PID")
}

# peer_wait SECONDS LOGNAME: wait (bounded) for a peer_bg; records its exit
# code ("impl_exit LOGNAME RC"); when it had to end it (SIGTERM, then
# SIGKILL), "impl_ended_by_lab LOGNAME TIME" first.
peer_wait() {
	local limit=$1 name=$2 pid i rc
	pid=${PEER_PIDS[$name]}
	for i in $(seq $((limit * 10))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "$name still running after ${limit}s: ending it"
		meta impl_ended_by_lab "$name" "$(now)"
		kill -CONT "$pid" 2>/dev/null
		kill -TERM "$pid" 2>/dev/null
		sleep 0.2
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	rc=$?
	meta impl_exit "$name" "$rc"
	log "$name exit $rc"
	return 0
}

# peer_setting client|server NAME VALUE: the keepalive setting the lab gave
# that side, as the implementation names it (PingIntervalSecs, -K,
# Transport.set_keepalive, ...) and its value in seconds. This is the one
# thing the truth takes from the configuration (manifest "setting").
peer_setting() { meta setting "$1" "$2" "$3"; }

# peer_remote_command TEXT: the remote command the session runs (for the end
# cause: "sleep N" that ends by itself is an idle logout on the wire).
peer_remote_command() { meta remote_command "$*"; }

# wait_listen PORT SECONDS: wait (bounded) until something listens on PORT
# in the server namespace.
wait_listen() {
	local i
	for i in $(seq $(($2 * 10))); do
		ip netns exec "$NSS" ss -Hltn "sport = :$1" | grep -q LISTEN && return 0
		sleep 0.1
	done
	die "nothing listens on port $1 in $NSS"
}

# wait_log FILE REGEX SECONDS: wait (bounded) until FILE has a line matching REGEX.
wait_log() {
	local i
	for i in $(seq $(($3 * 10))); do
		grep -Eq "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	log "timed out waiting for /$2/ in $(basename "$1")"
	return 1
}

# wait_count FILE REGEX N SECONDS: wait (bounded) until FILE has N lines matching REGEX.
wait_count() {
	local i
	for i in $(seq $(($4 * 10))); do
		[ "$(grep -Ec "$2" "$1" 2>/dev/null)" -ge "$3" ] && return 0
		sleep 0.1
	done
	log "timed out waiting for $3 × /$2/ in $(basename "$1")"
	return 1
}

# session_pid: the sshd process that runs the session's packet loop (the
# post-auth child "sshd: root@..."), a descendant of our listener.
session_pid() {
	local p c
	for p in $(descendants "$SSHD_PID"); do
		c=$(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null)
		case $c in "sshd: root@"*) echo "$p"; return 0 ;; esac
	done
	return 1
}

descendants() {
	local c
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		echo "$c"
		descendants "$c"
	done
}

# fault TEXT: record what the scenario did to the path or a process, and when
fault() { meta fault "$*"; meta fault_at "$(now)"; log "fault: $*"; }
note() { meta note "$*"; }

scn_end() {
	cap_stop
	local p
	for p in "${BG_PIDS[@]}"; do
		kill -CONT "$p" 2>/dev/null
		for c in $(descendants "$p"); do kill -CONT "$c" 2>/dev/null; kill -TERM "$c" 2>/dev/null; done
		kill -TERM "$p" 2>/dev/null
	done
	sleep 0.3
	ns_del "$NSC"
	ns_del "$NSS"
	[ -n "$NSR" ] && ns_del "$NSR"
	wait 2>/dev/null
	BG_PIDS=()
	meta ended "$(now)"
	mkdir -p "$OUT"
	rm -f "$OUT/$S".pcap "$OUT/$S".pcapng
	if [ "${CONVERT_PCAPNG:-}" = 1 ]; then
		editcap -F pcapng "$CAP_FILE" "$OUT/$S.pcapng"
		meta file "$S.pcapng"
		meta converted "editcap -F pcapng $S.pcap $S.pcapng"
	else
		cp "$CAP_FILE" "$OUT/$S.pcap"
		meta file "$S.pcap"
	fi
	trap - EXIT INT TERM
	save_work
	log "done: $(stat -c %s "$OUT"/"$S".pcap* | head -1) bytes"
}

# save_work: move the live directory to lab/scratch/NAME.
save_work() {
	[ -n "$D" ] && [ -d "$D" ] || return 0
	rm -rf "${WORK:?}/$S"
	cp -r "$D" "$WORK/$S" && rm -rf "$D"
	D=$WORK/$S
}

scn_cleanup() {
	local p
	[ -n "$TCPDUMP_PID" ] && kill -INT "$TCPDUMP_PID" 2>/dev/null
	for p in "${BG_PIDS[@]}"; do
		for c in $(descendants "$p"); do kill -CONT "$c" 2>/dev/null; kill -KILL "$c" 2>/dev/null; done
		kill -CONT "$p" 2>/dev/null
		kill -KILL "$p" 2>/dev/null
	done
	[ -n "$NSC" ] && ns_del "$NSC"
	[ -n "$NSS" ] && ns_del "$NSS"
	[ -n "$NSR" ] && ns_del "$NSR"
	save_work
}
