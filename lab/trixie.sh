#!/usr/bin/env bash
# lab/trixie.sh: a minimal Debian 13 (trixie) root with OpenSSH 10 (Debian's
# openssh-server and openssh-client) in lab/scratch/trixie-root, for the
# openssh10-* scenarios (lab/scenarios.d/openssh10.sh runs its ssh and sshd
# with chroot inside the lab's namespaces). Run as root.
#
#   lab/trixie.sh           build it unless it is there and works
#   lab/trixie.sh --check   only say whether it is there and works (exit 1 if not)
#   lab/trixie.sh --rebuild build it afresh
#
# The mirror is the Debian one this machine's apt uses (/etc/apt/sources.list*),
# the archive keyring Debian's debian-archive-keyring. debootstrap (Debian's
# package) is installed if missing. Bounded: debootstrap runs under a timeout.
set -euo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$LAB_DIR/scratch/trixie-root
SUITE=trixie
LIMIT=${TRIXIE_TIMEOUT:-1200}

say() { printf 'lab/trixie.sh: %s\n' "$*" >&2; }

# works: the root has sshd, sshd-session and ssh from OpenSSH 10, and the
# privilege-separation user sshd 10 needs.
works() {
	[ -x "$ROOT/usr/sbin/sshd" ] && [ -x "$ROOT/usr/bin/ssh" ] || return 1
	[ -e "$ROOT/usr/lib/openssh/sshd-session" ] || return 1
	grep -q '^sshd:' "$ROOT/etc/passwd" || return 1
	chroot "$ROOT" /usr/bin/ssh -V 2>&1 | grep -q '^OpenSSH_10' || return 1
	chroot "$ROOT" /usr/sbin/sshd -V 2>&1 | grep -q '^OpenSSH_10' || return 1
}

# mirror: the first Debian archive URI (not security) in apt's sources.
mirror() {
	local m
	m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
		sed -nE 's/^[[:space:]]*URIs:[[:space:]]*//p; s/^[[:space:]]*deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+).*/\2/p' |
		tr ' ' '\n' | grep -E '^https?://[^[:space:]]+/debian/?$' | head -1)
	echo "${m:-http://deb.debian.org/debian}"
}

# unmount_in DIR: what a killed debootstrap may have left mounted inside DIR
unmount_in() {
	local m
	for m in proc sys dev/pts dev; do
		mountpoint -q "$1/$m" 2>/dev/null && umount -l "$1/$m"
	done
	return 0
}

[ "$(id -u)" = 0 ] || { say "run as root (debootstrap, chroot)"; exit 1; }

case ${1:-} in
--check)
	if works; then say "$ROOT works: $(chroot "$ROOT" /usr/bin/ssh -V 2>&1)"; exit 0; fi
	say "$ROOT missing or not working"
	exit 1
	;;
--rebuild) unmount_in "$ROOT"; rm -rf --one-file-system "${ROOT:?}" ;;
"") ;;
*) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac

if works; then
	say "$ROOT present and working ($(chroot "$ROOT" /usr/bin/ssh -V 2>&1)); nothing to do"
	exit 0
fi

if ! command -v debootstrap >/dev/null; then
	say "installing debootstrap"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null ||
		{ DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; }
fi
[ -e /usr/share/debootstrap/scripts/$SUITE ] || { say "this debootstrap does not know $SUITE"; exit 1; }

MIRROR=$(mirror)
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
TMP=$ROOT.partial
unmount_in "$TMP"
unmount_in "$ROOT"
rm -rf --one-file-system "${TMP:?}" "${ROOT:?}"
mkdir -p "$(dirname "$ROOT")"
set -- --variant=minbase --include=openssh-server,openssh-client --keyring="$KEYRING" "$SUITE" "$TMP" "$MIRROR"
say "debootstrap $* (limit ${LIMIT}s)"
t0=$(date +%s)
if ! timeout "$LIMIT" debootstrap "$@" >"$LAB_DIR/scratch/trixie-debootstrap.log" 2>&1; then
	tail -20 "$LAB_DIR/scratch/trixie-debootstrap.log" >&2
	say "debootstrap failed (log: lab/scratch/trixie-debootstrap.log)"
	unmount_in "$TMP"
	rm -rf --one-file-system "${TMP:?}"
	exit 1
fi
mv "$TMP" "$ROOT"
# sshd 10 wants its privilege-separation directory and user (the package's
# postinst makes the user; the directory is made at run time by the lab too).
mkdir -p "$ROOT/run/sshd"
chmod 755 "$ROOT/run/sshd"
grep -q '^sshd:' "$ROOT/etc/passwd" ||
	chroot "$ROOT" useradd --system --no-create-home --home-dir /run/sshd --shell /usr/sbin/nologin sshd
# no host keys from the build: the lab brings its own
rm -f "$ROOT"/etc/ssh/ssh_host_*
say "built in $(($(date +%s) - t0)) s, $(du -sh "$ROOT" | cut -f1)"
works || { say "built, but the check fails"; exit 1; }
say "$ROOT: $(chroot "$ROOT" /usr/bin/ssh -V 2>&1); $(chroot "$ROOT" dpkg-query -W -f '${Package} ${Version}\n' openssh-server openssh-client | tr '\n' ' ')"
