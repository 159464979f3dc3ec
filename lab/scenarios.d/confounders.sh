# shellcheck shell=bash disable=SC2034 # PEER_STDIN is read by peer_bg (lab/lib.sh)
# lab/scenarios.d/confounders.sh: real traffic on a clockwork schedule that is
# NOT a keepalive (periodic output, keystrokes every 2.000 s), next to a
# keepalive that is (PuTTY's IGNOREs among timed keystrokes), plus Dropbear's
# client keepalives without compression (exact sizes) and paramiko's timer
# restarting on its own sends (sourced by lab/captures.sh). Helpers: lab/lib.sh
# and lab/scenarios.d/putty-paramiko-dropbear.sh (ppd_*).
# Packages (Debian 12): openssh-client openssh-server putty-tools dropbear-bin
# python3-paramiko perl.

SCENARIOS+=(
	periodic-output
	timed-keystrokes
	putty-timed-keystrokes
	dropbear-client-nozlib
	paramiko-client-typing
)

# conf_metronome KEYS: "types" KEYS characters to stdout, one every 2.000 s
# on an absolute schedule (no drift), starting 1.5 s after it starts; then a
# newline, ^D after 0.5 s, and it exits 1 s later. Bounded: KEYS keys.
conf_metronome() {
	perl -MTime::HiRes=time,sleep -e '
		$| = 1;
		my ($n) = @ARGV;
		my @k = split //, "metronome";
		my $t0 = time + 1.5;
		for my $i (0 .. $n - 1) {
			my $d = $t0 + 2 * $i - time;
			sleep $d if $d > 0;
			print $k[$i % @k];
		}
		my $d = $t0 + 2 * $n - time;
		sleep $d if $d > 0;
		print "\n";
		sleep 0.5;
		print "\x04";
		sleep 1;
	' "$1"
}

scn_periodic-output() {
	scn_begin periodic-output "no keepalives (ServerAliveInterval 0, ClientAliveInterval 0), no pty: the remote command writes one byte every 2 s without a newline (for i in 1 2 3 4 5; do sleep 2; printf x; done): server->client data on a clockwork schedule that nobody answers at the SSH layer; chacha20-poly1305"
	# shellcheck disable=SC2016 # expanded by the remote shell
	simple "${NOCA[@]}" -- "${CHACHA[@]}" "${NOSA[@]}" -T -- 'for i in 1 2 3 4 5; do sleep 2; printf x; done'
}

scn_timed-keystrokes() {
	scn_begin timed-keystrokes "no keepalives, ssh -tt to a remote cat, one key every 2.000 s exactly (6 keys, then newline and ^D): keystrokes and their echoes on a clockwork schedule; chacha20-poly1305"
	net_up
	sshd_start "${NOCA[@]}"
	cap_start client 0
	ssh_args "${CHACHA[@]}" "${NOSA[@]}" -tt
	mkfifo "$D/stdin"
	meta typer "one key every 2.000 s (6 keys, newline, ^D; lab/scenarios.d/confounders.sh conf_metronome 6) | ssh -tt ... cat"
	SSH_STDIN=$D/stdin ssh_bg ssh cat
	conf_metronome 6 >"$D/stdin"
	ssh_wait 10
	scn_end
}

scn_putty-timed-keystrokes() {
	scn_begin putty-timed-keystrokes "PuTTY plink 0.78 client, PingIntervalSecs 2 (saved session), a pty (plink -t) to a remote cat, one key every 2.000 s exactly (6 keys, newline, ^D): only the empty IGNOREs are keepalives, not the clockwork keystrokes; the cipher plink negotiates by default"
	ppd_sshd_client
	ppd_putty_session sa-lab 2
	mkfifo "$D/stdin"
	meta typer "one key every 2.000 s (6 keys, newline, ^D; lab/scenarios.d/confounders.sh conf_metronome 6) | plink -t ... cat"
	PEER_STDIN=$D/stdin ppd_plink cat -t
	conf_metronome 6 >"$D/stdin"
	peer_wait 10 plink
	scn_end
}

scn_dropbear-client-nozlib() {
	scn_begin dropbear-client-nozlib "Dropbear dbclient 2022.83 -K 2, stdin held open (nothing typed), remote sleep 11, sshd with Compression no (no zlib: every probe has the exact size of its cipher)"
	net_up
	sshd_start "ClientAliveInterval 0" "Compression no"
	cap_start client 0
	ppd_dbclient 2 open "sleep 11"
	meta compression "sshd_config Compression no (dbclient offers zlib@openssh.com, none is negotiated)"
	scn_end
}

scn_paramiko-client-typing() {
	scn_begin paramiko-client-typing "paramiko client Transport.set_keepalive(2) (keepalive@lag.net, want_reply 0), remote cat (no pty): it sends a line every 0.7 s for 6 s, then idles 6 s, then EOF: paramiko's timer restarts on every packet it sends, so no probes while it sends, probes after"
	ppd_sshd_client
	peer_setting client Transport.set_keepalive 2
	peer_remote_command cat
	meta typer "lab/impl/paramiko/sender.py: a line to the remote cat every 0.7 s for 6 s, idle 6 s, then EOF"
	peer_bg client paramiko "$PPD_PY" "$LAB_DIR/impl/paramiko/sender.py" "$SADDR" "$PORT" "$KEYS/id_ed25519" "$KEYS/host_ed25519.pub" 2 0.7 6 6
	peer_wait 40 paramiko
	scn_end
}
