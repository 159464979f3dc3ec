#!/usr/bin/env bash
# lab/bench.sh [PCAP]: the performance figures of the README, in one run.
#
# Generates a large capture with lab/gen (unless one is given), then prints
# for the full analysis and for a decode-only loop over the same file:
# packets/s, MB/s, allocations per packet, the ratio between the two, on 1
# and 2 cores; the peak RSS of `sshalive -r FILE --json`, and of a SYN flood;
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

SSHALIVE_BENCH_PCAP=$pcap go test ./cmd/sshalive -run '^$' -bench 'Big' -benchmem -benchtime 3x -count 3 -cpu 1,2 |
	awk -v bytes="$bytes" '
	/^BenchmarkBig/ {
		name = $1; ns = $3; for (i = 4; i < NF; i++) { if ($(i+1) == "packets/s") pps = $i; if ($(i+1) == "allocs/op") allocs = $i }
		pkts = pps * ns / 1e9
		key = name; cores = (name ~ /-2$/) ? 2 : 1; sub(/-2$/, "", key)
		if (!(key SUBSEP cores in best) || pps > best[key, cores]) { best[key, cores] = pps; al[key, cores] = allocs / pkts; mbs[key, cores] = bytes / (ns / 1e9) / 1e6 }
	}
	END {
		for (c = 1; c <= 2; c++) {
			d = best["BenchmarkBigDecodeOnly", c]; f = best["BenchmarkBigFullAnalysis", c]
			printf "bench: %d core%s  decode-only %.2f M packets/s (%.0f MB/s, %.3f allocs/packet)  full analysis %.2f M packets/s (%.0f MB/s, %.3f allocs/packet)  ratio %.2f\n", \
				c, (c > 1 ? "s" : ""), d / 1e6, mbs["BenchmarkBigDecodeOnly", c], al["BenchmarkBigDecodeOnly", c], \
				f / 1e6, mbs["BenchmarkBigFullAnalysis", c], al["BenchmarkBigFullAnalysis", c], f / d
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
