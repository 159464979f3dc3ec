#!/usr/bin/env bash
# lab/openssh10.sh: run OpenSSH 10 (Debian 13 trixie's ssh and sshd, from the
# root lab/trixie.sh builds in lab/scratch/trixie-root) inside the lab's
# namespaces. Two uses:
#
#   . lab/openssh10.sh          (lab/scenarios.d/openssh10.sh) the o10_* helpers
#   lab/openssh10.sh run ssh|sshd ARG...
#                               what `ip netns exec NS` runs: a private mount
#                               namespace (so nothing stays mounted once the
#                               program and its children are gone) with /dev
#                               (incl. /dev/pts, /dev/shm), /proc and the lab's
#                               keys (and the live directory, if not under
#                               /dev) mounted into the root at their own paths,
#                               then chroot ROOT /usr/bin/ssh or /usr/sbin/sshd.
#                               The lab's config, key and log paths therefore
#                               mean the same inside the root as outside.

O10_LAB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
O10_ROOT=${O10_ROOT:-$O10_LAB/scratch/trixie-root}
O10_RUN=$O10_LAB/openssh10.sh

# o10_exec ssh|sshd ARG...: (run mode) mount and chroot, then exec the program.
o10_exec() {
	local prog=$1 bin
	shift
	case $prog in
	ssh) bin=/usr/bin/ssh ;;
	sshd) bin=/usr/sbin/sshd ;;
	*) echo "openssh10.sh: run ssh|sshd ..." >&2; exit 2 ;;
	esac
	[ -x "$O10_ROOT$bin" ] || { echo "openssh10.sh: no $O10_ROOT$bin (run lab/trixie.sh)" >&2; exit 1; }
	local keys=${O10_KEYS:-$O10_LAB/scratch/keys} live=${O10_LIVE:-}
	# unshare execs (no fork): the lab's PID for this process stays the
	# program's PID, and its children share the private mounts.
	exec unshare --mount --propagation private -- /bin/bash -c '
		set -e
		root=$1 keys=$2 live=$3 bin=$4
		shift 4
		mount --rbind /dev "$root/dev"
		mount -t proc proc "$root/proc"
		mkdir -p "$root$keys"
		mount --bind -o ro "$keys" "$root$keys"
		case $live in
		"" | /dev/*) ;;
		*) mkdir -p "$root$live"; mount --bind "$live" "$root$live" ;;
		esac
		mkdir -p "$root/run/sshd"
		exec chroot "$root" "$bin" "$@"
	' o10 "$O10_ROOT" "$keys" "$live" "$bin" "$@"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	[ "${1:-}" = run ] || { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
	shift
	o10_exec "$@"
fi

# ---- sourced: helpers for the scenarios (each runs in its own subshell, so
# the variables set here stay in that scenario).

# o10_ready: the trixie root is there and works (lab/trixie.sh --check), or die.
o10_ready() {
	"$O10_LAB/trixie.sh" --check 2>/dev/null ||
		die "no working OpenSSH 10 root in lab/scratch/trixie-root: run lab/trixie.sh (as root) first"
}

# o10_versions: record which binaries run (their -V, and the Debian packages).
o10_versions() {
	meta note "OpenSSH 10 binaries: Debian 13 (trixie) $(chroot "$O10_ROOT" dpkg-query -W -f '${Package} ${Version}, ' openssh-client openssh-server | sed 's/, $//') in a debootstrap root (lab/trixie.sh), run with chroot in the namespaces; ssh -V: $(chroot "$O10_ROOT" /usr/bin/ssh -V 2>&1)"
}

# o10_sshd: the server side runs trixie's sshd (call before sshd_start, which
# runs "$SSHD_BIN" -t/-D ...: a one-line wrapper in the live directory puts
# "run sshd" in front).
o10_sshd() {
	export O10_LIVE=$D
	SSHD_BIN=$D/sshd10
	printf '#!/bin/sh\nexec %q run sshd "$@"\n' "$O10_RUN" >"$SSHD_BIN"
	chmod 755 "$SSHD_BIN"
	meta server_impl "ip netns exec NS chroot trixie-root /usr/sbin/sshd -D -e -f sshd_config"
}

# o10_ssh: after ssh_args, run the client as trixie's ssh.
o10_ssh() {
	export O10_LIVE=$D
	SSH_ARGV=("$O10_RUN" run "${SSH_ARGV[@]}")
	meta client_impl "ip netns exec NS chroot trixie-root /usr/bin/ssh ..."
}

# o10_typer TYPER_ARGS...: lab/typer.pl into ssh's stdin fifo ($D/stdin, made
# by the caller), each key's time logged to $D/keys.log ("T key N", N the byte)
# as it is handed to ssh.
o10_typer() {
	perl "$LAB_DIR/typer.pl" "$@" | perl -MTime::HiRes=time -e '
		open(my $l, ">", $ARGV[0]) or die "$ARGV[0]: $!";
		select((select($l), $| = 1)[0]);
		while (sysread(STDIN, my $c, 1)) {
			syswrite(STDOUT, $c);
			printf $l "%.6f key %d\n", time, ord $c;
		}' "$D/keys.log" >"$D/stdin"
}

# o10_chaff_notes: after scn_end, what the client's log says about keystroke
# timing chaff (ssh -vvv "obfuscate_keystroke_timing: ..." lines; PING and PONG
# themselves are not logged as packets), each burst's tail after the last key
# ($D/keys.log), the keepalive probes the client logged, and the 36-byte
# segments on the wire per direction (tshark). Recorded as notes.
o10_chaff_notes() {
	local n
	while IFS= read -r n; do
		[ -n "$n" ] && note "$n"
	done < <(perl -e '
		my ($log, $keys) = @ARGV;
		my (@k, @b, @p, $start);
		if (open(my $f, "<", $keys)) { while (<$f>) { push @k, $1 if /^(\S+) key/ } }
		open(my $f, "<", $log) or exit 0;
		while (<$f>) {
			my ($t) = /^(\S+)/;
			$start = $t if /obfuscate_keystroke_timing: starting/;
			push @b, [$start, $t, $2, $1] if /obfuscate_keystroke_timing: stopping: (.*) \((\d+) chaff packets sent\)/;
			push @p, $t if /^\S+ debug3: send packet: type 80\r?$/ && $prev !~ /no-more-sessions/;
			$prev = $_;
		}
		exit 0 unless @b;
		my $sum = 0; $sum += $_->[2] for @b;
		my @d;
		for my $x (@b) {
			my ($s, $e, $n, $why) = @$x;
			my @before = grep { $_ <= $e } @k;
			my $tail = @before ? sprintf(", %.2f s after the last key", $e - $before[-1]) : "";
			push @d, sprintf("%.2f-%.2f s: %d (%s%s)", $s - $b[0][0], $e - $b[0][0], $n, $why, $tail);
		}
		printf "keystroke-timing chaff (client ssh -vvv obfuscate_keystroke_timing lines; times from the first burst start): %d burst(s), %d SSH2_MSG_PING sent in all: %s\n", scalar @b, $sum, join("; ", @d);
		if (@p) {
			my @q;
			for my $t (@p) {
				my ($in) = grep { $t >= $_->[0] && $t <= $_->[1] } @b;
				my @ended = grep { $_->[1] < $t } @b;
				push @q, $in ? sprintf("%.2f s (during a burst)", $t - $b[0][0])
					: @ended ? sprintf("%.2f s (%.2f s after chaff stopped)", $t - $b[0][0], $t - $ended[-1][1])
					: sprintf("%.2f s (before the first key)", $t - $b[0][0]);
			}
			printf "keepalive probes the client logged (send packet: type 80), same time base: %s\n", join(", ", @q);
		}
	' "$D/ssh.log" "$D/keys.log")
	if command -v tshark >/dev/null && [ -f "$OUT/$S.pcap" ]; then
		local c s
		c=$(tshark -r "$OUT/$S.pcap" -Y "tcp.len==36 && tcp.dstport==$PORT" 2>/dev/null | wc -l)
		s=$(tshark -r "$OUT/$S.pcap" -Y "tcp.len==36 && tcp.srcport==$PORT" 2>/dev/null | wc -l)
		note "wire (tshark): $c client->server and $s server->client 36-byte segments (chaff PING/PONG, 1-byte keystrokes and their echoes all have this size under $(grep -m1 -o 'client->server cipher: [^ ]*' "$D/ssh.log" | cut -d' ' -f3))"
	fi
}
