#!/usr/bin/env bash
# lab/captures.sh: regenerate the real-traffic captures in testdata/pcaps and
# testdata/pcaps/manifest.json from real OpenSSH (run as root).
#
#   lab/captures.sh            every scenario, the seed traces, then the manifest
#   lab/captures.sh NAME...    only those scenarios (the manifest keeps the others)
#   lab/captures.sh --list     list the scenarios
#
# Each scenario builds two network namespaces (sa-NAME-c, sa-NAME-s) joined by
# a veth pair, starts a throwaway sshd (own config, host key and authorized key
# under lab/scratch), runs ssh with the scenario's options while tcpdump records,
# and tears everything down. Endpoint debug logs (DEBUG3, every line stamped
# with the wall clock) stay in lab/scratch/NAME/; lab/truth ties them to the wire.
set -uo pipefail
# shellcheck source=lab/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=lab/scenarios.sh
. "$LAB_DIR/scenarios.sh"
# more scenarios, one file per implementation family (each appends to SCENARIOS)
for f in "$LAB_DIR"/scenarios.d/*.sh; do
	# shellcheck disable=SC1090
	[ -e "$f" ] && . "$f"
done

usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; }

main() {
	if [ "${1:-}" = --list ]; then
		printf '%s\n' "${SCENARIOS[@]}"
		return 0
	fi
	if [ "${1:-}" = -h ] || [ "${1:-}" = --help ]; then
		usage
		return 0
	fi
	[ "$(id -u)" = 0 ] || die "run as root (network namespaces, tcpdump, sshd)"
	local t0 names=("$@") only=("$@") all=0 n failed=()
	t0=$(date +%s)
	if [ ${#names[@]} = 0 ]; then
		names=("${SCENARIOS[@]}")
		all=1
	fi
	for n in "${names[@]}"; do
		declare -F "scn_$n" >/dev/null || die "unknown scenario $n (see --list)"
	done
	# Timers are the point of these captures: keep ssh, sshd, tcpdump and the
	# log stampers ahead of whatever else the machine runs (they inherit this).
	renice -n -10 -p $$ >/dev/null 2>&1 || true
	mkdir -p "$WORK" "$OUT" "$WORK/entries"
	keys_init
	for n in "${names[@]}"; do
		# a subshell per scenario: its traps tear down its namespaces and processes
		if ! ("scn_$n"); then
			failed+=("$n")
			log "scenario $n FAILED"
		fi
	done
	if [ $all = 1 ] && [ -d "$LAB_DIR/seedtraces" ]; then
		log "seed traces: go run ./lab/seedtraces"
		(cd "$REPO_DIR" && go run ./lab/seedtraces -out testdata/pcaps -entries lab/scratch/entries) || failed+=(seedtraces)
	fi
	log "manifest: go run ./lab/truth"
	(cd "$REPO_DIR" && flock "$WORK/.truth.lock" go run ./lab/truth -work lab/scratch -out testdata/pcaps "${only[@]}") || failed+=(truth)
	log "total $(($(date +%s) - t0)) s"
	if [ ${#failed[@]} -gt 0 ]; then
		log "failed: ${failed[*]}"
		return 1
	fi
}

main "$@"
