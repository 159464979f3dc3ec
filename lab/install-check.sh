#!/usr/bin/env bash
# lab/install-check.sh [DEB]: README-release's install path on a fresh Debian 12
# (debootstrap --variant=minbase bookworm: no Go, no gcc, no libpcap, no man,
# no bash-completion). Installs the .deb (default: this machine's architecture
# from dist/, so run make release first) in a throwaway chroot and checks, with
# the base system only: dpkg -i, sshalive --version, a bundled capture read with
# -r, a live capture on lo (AF_PACKET: no libpcap), the binary static (ldd), every file where the package promises it, the
# service not enabled, no file capability. Then, with man-db, bash-completion,
# zsh and fish installed from Debian: man finds and renders the page without
# warnings, and each shell loads the completion from where it was installed.
# Last, dpkg -r leaves nothing behind. Root; not part of make test (debootstrap
# takes minutes; its image is cached under ${TMPDIR:-/tmp}/sshalive-install-check).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ "$(id -u)" = 0 ] || { echo "install-check: needs root (chroot, dpkg)"; exit 1; }
deb=${1:-$(ls dist/sshalive_*_"$(dpkg --print-architecture)".deb 2>/dev/null | head -1)}
[ -f "$deb" ] || { echo "install-check: no .deb (run make release, or name one)"; exit 1; }
pcap=testdata/pcaps/seed-serveralive.pcap

cache=${TMPDIR:-/tmp}/sshalive-install-check
img=$cache/bookworm-minbase.tgz
mirror=$(grep -h '^URIs' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -1 || true)
[ -n "$mirror" ] || mirror=$(grep -h '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | head -1 || true)
mirror=${mirror:-http://deb.debian.org/debian}
if [ ! -s "$img" ]; then
	command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
	mkdir -p "$cache"
	r=$(mktemp -d "$cache/root.XXXX")
	echo "debootstrap bookworm (minbase) from $mirror, once ..."
	timeout 1200 debootstrap --variant=minbase bookworm "$r" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
		{ tail -20 "$cache/debootstrap.log"; rm -rf "$r"; exit 1; }
	tar -C "$r" -czf "$img.part" . && mv "$img.part" "$img"
	rm -rf "$r"
fi

R=$(mktemp -d "${TMPDIR:-/tmp}/sshalive-install-check.XXXX")
mounted=()
cleanup() {
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}"; done
	rm -rf "$R"
}
trap cleanup EXIT
tar -C "$R" -xzf "$img"
for m in proc sys dev dev/pts; do
	case $m in
	proc) mount -t proc proc "$R/proc" ;;
	sys) mount -t sysfs sys "$R/sys" ;;
	*) mount --bind "/$m" "$R/$m" ;;
	esac
	mounted+=("$R/$m")
done
cp "$deb" "$R/tmp/"
cp "$pcap" "$R/tmp/"
in_root() {
	env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TERM=dumb \
		DEBIAN_FRONTEND=noninteractive \
		${http_proxy:+http_proxy=$http_proxy} ${https_proxy:+https_proxy=$https_proxy} \
		chroot "$R" bash -c "$1"
}
fails=0
check() { # check WHAT SCRIPT: run SCRIPT in the root; print its output
	local out
	if out=$(in_root "$2" 2>&1); then
		echo "ok   $1${out:+: $out}"
	else
		echo "FAIL $1${out:+: $out}"
		fails=$((fails + 1))
	fi
}

echo "== fresh Debian $(cat "$R/etc/debian_version") (minbase), $(basename "$deb")"
check "no Go, gcc or libpcap" '! command -v go && ! command -v gcc && ! ls /usr/lib/*/libpcap.so* 2>/dev/null; echo "none"'
check "dpkg -i" "dpkg -i /tmp/$(basename "$deb") >/tmp/dpkg.log 2>&1 || { cat /tmp/dpkg.log; exit 1; }; dpkg-query -W sshalive"
check "sshalive --version" 'sshalive --version'
check "sshalive -r $(basename "$pcap")" "sshalive -r /tmp/$(basename "$pcap") | grep -m1 -o 'sends SSH keepalives.*ServerAliveInterval [0-9]*'"
check "sshalive -i lo (live, no libpcap)" 'sshalive -i lo --duration 1s --json 2>/tmp/live.err | tail -1 | grep -o "\"interface\":\"lo\"" || { cat /tmp/live.err; exit 1; }'
check "ldd /usr/bin/sshalive" 'out=$(ldd /usr/bin/sshalive 2>&1); echo "$out" | grep -q "not a dynamic executable" && echo "$out" | tr -s " \t" " "'
check "files in place" 'for f in /usr/bin/sshalive /usr/share/man/man1/sshalive.1.gz /usr/share/bash-completion/completions/sshalive /usr/share/zsh/vendor-completions/_sshalive /usr/share/fish/vendor_completions.d/sshalive.fish /lib/systemd/system/sshalive.service /usr/share/doc/sshalive/README.md /usr/share/doc/sshalive/copyright; do [ -f $f ] || { echo "missing $f"; exit 1; }; done; echo "8 files"'
check "service not enabled" '! ls /etc/systemd/system/*.wants/sshalive.service 2>/dev/null; echo "no link in /etc/systemd/system"'
# the root has no getcap (libcap2-bin): ask this machine's about the installed file
if command -v getcap >/dev/null; then
	caps=$(getcap "$R/usr/bin/sshalive" 2>&1)
	if [ -z "$caps" ]; then echo "ok   no file capability set by postinst"; else echo "FAIL file capability: $caps"; fails=$((fails + 1)); fi
fi
check "bash completion (bash only)" 'source /usr/share/bash-completion/completions/sshalive && complete -p sshalive'

echo "== with man-db, bash-completion, zsh, fish from Debian"
cp /etc/resolv.conf "$R/etc/resolv.conf" 2>/dev/null || true
echo "deb $mirror bookworm main" >"$R/etc/apt/sources.list"
if in_root 'apt-get -qq update && apt-get install -y -qq --no-install-recommends man-db bash-completion zsh fish' >"$R/tmp/apt.log" 2>&1; then
	check "man sshalive" 'MANWIDTH=80 man sshalive 2>&1 | col -b | sed -n "1p;/^NAME/,+1p" | sed "s/  */ /g" | tr "\n" "|"'
	check "man --warnings -l" 'w=$(MANWIDTH=80 man --warnings -l /usr/share/man/man1/sshalive.1.gz 2>&1 >/dev/null); [ -z "$w" ] || { echo "$w"; exit 1; }; echo "no warnings"'
	check "bash-completion loads it" 'source /usr/share/bash-completion/bash_completion; __load_completion sshalive && complete -p sshalive'
	check "bash completes -i" 'source /usr/share/bash-completion/bash_completion; __load_completion sshalive; COMP_WORDS=(sshalive -i ""); COMP_CWORD=2; _sshalive; echo "${COMPREPLY[*]}"'
	check "zsh finds _sshalive" 'zsh -c "autoload -Uz compinit; compinit -u -d /tmp/zcomp; print \$_comps[sshalive] from \${^fpath}/_sshalive(N)"'
	check "fish completes --rel" 'fish -c "complete -C \"sshalive --rel\"" | cut -f1'
else
	echo "FAIL apt-get in the root (Debian mirror unreachable?):"
	tail -5 "$R/tmp/apt.log"
	fails=$((fails + 1))
fi
check "dpkg -r" 'dpkg -r sshalive >/dev/null 2>&1; for f in /usr/bin/sshalive /lib/systemd/system/sshalive.service /usr/share/bash-completion/completions/sshalive; do [ ! -e $f ] || { echo "left $f"; exit 1; }; done; echo "removed"'

[ "$fails" = 0 ] && echo "install check: all passed" || { echo "install check: $fails failed"; exit 1; }
