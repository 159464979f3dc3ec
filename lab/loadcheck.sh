#!/usr/bin/env bash
# lab/loadcheck.sh [PCAP]: how fast can live sshalive keep up?
#
# Replays a large capture (default: one lab/gen writes, ~1.5 M packets) with
# tcpreplay over a veth pair between two network namespaces this script
# creates, into `sshalive -i` on the far end, at increasing packet rates, and
# reports the highest rate at which the kernel dropped nothing. Run as root
# from the repository (needs tcpreplay: apt-get install tcpreplay).
# Traffic never leaves the two namespaces. Every step is bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "loadcheck: run as root" >&2; exit 2; }
command -v tcpreplay >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tcpreplay >/dev/null
go build -o bin/sshalive ./cmd/sshalive

work=$(mktemp -d)
tx=sa-load-tx-$$ rx=sa-load-rx-$$
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	ip netns del "$tx" 2>/dev/null || true
	ip netns del "$rx" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

pcap=${1:-}
if [ -z "$pcap" ]; then
	pcap=$work/load.pcap
	go run ./lab/gen -out "$pcap" -conns 3000 -duration 1h -seed 7 >/dev/null
fi
packets=$(bin/sshalive -r "$pcap" --json 2>/dev/null | tail -1 | sed 's/.*"packets":\([0-9]*\).*/\1/')
echo "loadcheck: $pcap, $packets packets"

ip netns add "$tx"
ip netns add "$rx"
ip link add ld-tx-$$ type veth peer name ld-rx-$$
ip link set ld-tx-$$ netns "$tx"
ip link set ld-rx-$$ netns "$rx"
ip -n "$tx" link set ld-tx-$$ up
ip -n "$rx" link set ld-rx-$$ up

# one_run PPS: replay at PPS packets/s (0 = top speed); print "rate received dropped".
one_run() {
	local pps=$1 rate_opt=(--topspeed)
	[ "$pps" != 0 ] && rate_opt=(--pps="$pps")
	ip netns exec "$rx" timeout 300 bin/sshalive -i ld-rx-$$ --promisc -s 256 -B 65536 --json >"$work/out" 2>"$work/err" &
	pid=$!
	for _ in $(seq 50); do grep -q "capturing on" "$work/err" && break; sleep 0.1; done
	local t0 t1
	t0=$(date +%s.%N)
	ip netns exec "$tx" timeout 300 tcpreplay -q -i ld-tx-$$ "${rate_opt[@]}" "$pcap" >"$work/replay" 2>&1
	t1=$(date +%s.%N)
	sleep 1
	kill -INT "$pid"
	wait "$pid" || true
	pid=""
	local line recv drop
	line=$(grep "dropped by kernel" "$work/err" || true)
	recv=$(echo "$line" | sed 's/.*, \([0-9]*\) received by filter.*/\1/')
	drop=$(echo "$line" | sed 's/.*, \([0-9]*\) dropped by kernel.*/\1/')
	awk -v p="$packets" -v a="$t0" -v b="$t1" -v r="$recv" -v d="$drop" 'BEGIN { printf "%.0f %s %s\n", p/(b-a), r, d }'
}

best=0
for pps in 0 400000 200000 100000 50000; do
	read -r rate recv drop < <(one_run "$pps")
	printf 'loadcheck: offered %s pkt/s (%s): received %s, dropped by kernel %s\n' "$rate" "$([ "$pps" = 0 ] && echo top speed || echo "--pps $pps")" "$recv" "$drop"
	if [ "$drop" = 0 ]; then
		best=$rate
		break
	fi
done
echo "loadcheck: highest replay rate with zero kernel drops: $best packets/s"
