# shellcheck shell=bash
# lab/scenarios.d/chanopen.sh: a session CHANNEL_OPEN right after a keepalive
# probe on the same connection (sourced by lab/captures.sh). Under
# chacha20-poly1305 a "session" CHANNEL_OPEN (type 90) and OpenSSH's
# keepalive@openssh.com global request (type 80) are both 52 bytes on the
# wire: a size-only reading may take the open for a second probe. An OpenSSH
# 9.2 ControlMaster (ServerAliveInterval=2) sits idle in 'sleep 20'; the lab
# watches the master's DEBUG3 log and, as soon as it logs the 3rd (then the
# 5th) "send packet: type 80", starts a second ssh through the control socket,
# whose session the master opens over the same TCP connection some ms later.
# Helpers: lab/lib.sh, CHACHA/NOCA in lab/scenarios.sh, exit_evidence in
# lab/scenarios.d/endings.sh.
# Packages (Debian 12): openssh-client openssh-server perl.

SCENARIOS+=(
	chanopen-after-probe
)

# chan_wait_probe LOG N SECONDS: wait (bounded, polling every 5 ms) until LOG
# has N lines "debug3: send packet: type 80" (ssh's keepalive@openssh.com
# requests; a ControlMaster sends no no-more-sessions@openssh.com). Prints the
# Nth line's stamp.
chan_wait_probe() {
	local f=$1 n=$2 c
	for _ in $(seq $(($3 * 200))); do
		c=$(grep -c "debug3: send packet: type 80" "$f" 2>/dev/null)
		if [ "${c:-0}" -ge "$n" ]; then
			grep "debug3: send packet: type 80" "$f" | sed -n "${n}p" | cut -d' ' -f1
			return 0
		fi
		sleep 0.005
	done
	log "timed out waiting for probe $n in $(basename "$f")"
	return 1
}

scn_chanopen-after-probe() {
	scn_begin chanopen-after-probe "ControlMaster (ControlPersist no, ServerAliveInterval=2, chacha20-poly1305) idle in 'sleep 20'; right after the master logs its 3rd and 5th keepalive (send packet: type 80) the lab starts a second ssh through the ControlPath running 'true': the master's session CHANNEL_OPEN (52 bytes, as a probe) follows the probe by a few tens of ms; the master exits when its sleep ends"
	net_up
	sshd_start "${NOCA[@]}"
	cap_start client 0
	# ControlPath relative to the live directory (no machine path in the manifest)
	cd "$D" || die "cd"
	ssh_args "${CHACHA[@]}" -o ServerAliveInterval=2 -o ControlMaster=yes -o ControlPath=cm -o ControlPersist=no
	ssh_bg master sleep 20
	wait_log "$D/master.log" "mux_listener_setup|setting up multiplex master socket" 10 || die "no master socket"
	wait_log "$D/master.log" "Entering interactive session" 10 || die "no session"
	local k t_probe t_mux
	for k in 3 5; do
		t_probe=$(chan_wait_probe "$D/master.log" "$k" 30) || die "no probe $k"
		ssh_args "${CHACHA[@]}" -o ControlMaster=no -o ControlPath=cm
		t_mux=$(now)
		ssh_bg "mux$k" true
		note "mux$k (ssh through ControlPath, 'true') started at $t_mux, $(perl -e 'printf "%.1f", ($ARGV[1] - $ARGV[0]) * 1000' "$t_probe" "$t_mux") ms after the master logged its keepalive #$k (send packet: type 80 at $t_probe)"
		ssh_wait 10 "mux$k"
	done
	ssh_wait 30 master
	meta end_cause command-ended "every remote command ended by itself (the master's sleep 20, the two multiplexed sessions' true); the master (ControlPersist no) then closed the connection; nothing was typed and no idle timer was set; $(exit_evidence master mux3 mux5)"
	scn_end
}
