#!/usr/bin/env bash
# lab/bench.sh [PCAP]: the performance figures of the README, in one run.
#
# Generates a large capture with lab/gen (unless one is given), then prints
# the floors over the same file on 1 core (a bare record walk, gopacket's
# pcapgo + DecodingLayerParser, sshalive's read + decode) and the full
# analysis on 1, 2 and all cores: packets/s, MB/s, allocations per packet,
# the ratio to the gopacket floor and to itself on 1 core (best of 3, each
# run pinned to its cores with taskset); the peak RSS of `sshalive -r FILE --json`, and of a SYN flood;
# and, where tshark is installed, its time for -Y tcp.analysis.keep_alive
# over the same file. Writes only under a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pcap=${1:-}
if [ -z "$pcap" ]; then
	pcap=$work/big.pcap
	echo "bench: generating $pcap (lab/gen -conns 1500 -duration 2h -seed 1)"
	go run ./lab/gen -out "$pcap" -conns 1500 -duration 2h -seed 1 >/dev/null
fi
go build -o bin/sshalive ./cmd/sshalive
bytes=$(stat -c %s "$pcap")
echo "bench: $pcap, $((bytes / 1048576)) MiB"

cpus=$(nproc)
list="1 2"
[ "$cpus" -gt 2 ] && list="1 2 $cpus"
# One test binary, pinned with taskset to as many cores as it may use
# (GOMAXPROCS alone does not stop the kernel's share of a read running on
# another core): the floors on one core, the full analysis on 1, 2 and
# all cores.
go test -c -o "$work/bench.test" ./cmd/sshalive
export SSHALIVE_BENCH_PCAP=$pcap
{
	(cd cmd/sshalive && taskset -c 0 "$work/bench.test" -test.run '^$' -test.bench 'Big(ReadOnly|Gopacket|DecodeOnly)$' \
		-test.benchmem -test.benchtime 3x -test.count 3 -test.cpu 1)
	for c in $list; do
		(cd cmd/sshalive && taskset -c "0-$((c - 1))" "$work/bench.test" -test.run '^$' -test.bench 'BigFullAnalysis$' \
			-test.benchmem -test.benchtime 3x -test.count 3 -test.cpu "$c")
	done
} |
	awk -v bytes="$bytes" '
	/^BenchmarkBig/ {
		name = $1; ns = $3; for (i = 4; i < NF; i++) { if ($(i+1) == "packets/s") pps = $i; if ($(i+1) == "allocs/op") allocs = $i }
		cores = 1; if (match(name, /-[0-9]+$/)) { cores = substr(name, RSTART + 1) + 0; name = substr(name, 1, RSTART - 1) }
		sub(/^BenchmarkBig/, "", name)
		if (!((name, cores) in best) || pps > best[name, cores]) { best[name, cores] = pps; al[name, cores] = allocs / (pps * ns / 1e9); mbs[name, cores] = bytes / (ns / 1e9) / 1e6 }
		seen[cores] = 1
	}
	END {
		floor = best["Gopacket", 1]
		printf "bench: floors on 1 core: record walk %.2f M packets/s; gopacket (pcapgo + DecodingLayerParser) %.2f M; sshalive read+decode %.2f M\n", \
			best["ReadOnly", 1] / 1e6, floor / 1e6, best["DecodeOnly", 1] / 1e6
		n = split("1 2 4 8 16 32 64 128", order, " ")
		for (i = 1; i <= n; i++) {
			c = order[i]; if (!(c in seen)) continue
			f = best["FullAnalysis", c]
			printf "bench: full analysis on %d core%s: %.2f M packets/s (%.0f MB/s, %.3f allocs/packet): %.2f x the 1-core gopacket floor, %.2f x itself on 1 core\n", \
				c, (c > 1 ? "s" : ""), f / 1e6, mbs["FullAnalysis", c], al["FullAnalysis", c], f / floor, f / best["FullAnalysis", 1]
		}
	}'

rss() { /usr/bin/time -f '%M %e' "$@" 2>&1 >/dev/null | tail -1; }
if [ -x /usr/bin/time ]; then
	read -r kb secs < <(rss bin/sshalive -r "$pcap" --json)
	echo "bench: sshalive -r big --json: ${secs} s, peak RSS $((kb / 1024)) MiB"
	go run ./lab/gen -out "$work/flood.pcap" -conns 200 -duration 1h -seed 2 -synflood 1000000 >/dev/null
	read -r kb secs < <(rss bin/sshalive -r "$work/flood.pcap" --json)
	echo "bench: SYN flood (1 M SYNs, 200 sessions): ${secs} s, peak RSS $((kb / 1024)) MiB"
	read -r kb secs < <(rss bin/sshalive -r "$work/flood.pcap" --json --max-conns 10000)
	echo "bench: SYN flood with --max-conns 10000: ${secs} s, peak RSS $((kb / 1024)) MiB"
else
	echo "bench: /usr/bin/time missing (apt-get install time): no RSS figures"
fi
if command -v tshark >/dev/null; then
	t0=$(date +%s.%N)
	n=$(tshark -r "$pcap" -Y tcp.analysis.keep_alive -T fields -e frame.number 2>/dev/null | wc -l)
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN { printf "bench: tshark -Y tcp.analysis.keep_alive: %.1f s (%d TCP keepalives; it sees no SSH-layer ones)\n", b - a, n }'
fi
