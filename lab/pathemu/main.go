// Command pathemu is the lab's network path: it forwards Ethernet frames
// between two interfaces of one network namespace (AF_PACKET raw sockets,
// no IP forwarding) and shapes each direction on the way: fixed delay,
// bounded jitter, loss, reordering, duplication, and a rate-limited
// bottleneck with a tail-drop queue. The kernel here has no sch_netem, so
// lab/pathemu.sh runs this in the middle namespace (sa-NAME-p) instead.
//
//	pathemu -a c0 -b s0 -delay 40ms -seed 1 -max-duration 60s
//	pathemu -a c0 -b s0 -delay 20ms -s2c rate=10000000,queue=200 ...
//
// Direction c2s is a → b (client → server), s2c is b → a. The flags -delay,
// -jitter, ... set both; -c2s / -s2c "key=value,..." override one. Random
// decisions come from math/rand/v2 PCG streams seeded by -seed, one stream
// per direction. It stops after -max-duration, or on SIGTERM/SIGINT once the
// frames already in the path have left (-drain bounds the wait), and prints
// its counters to stderr (one "pathemu DIR key=value..." line per direction).
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	var (
		p                      params
		ifA, ifB, c2s, s2c     string
		seed                   uint64
		maxDur, holeAfter      time.Duration
		drain                  time.Duration
		maxFrames, maxBytes    int
		rate                   int64
		loss, reorder, dupProb float64
	)
	flag.StringVar(&ifA, "a", "c0", "interface towards the client")
	flag.StringVar(&ifB, "b", "s0", "interface towards the server")
	flag.DurationVar(&p.Delay, "delay", 0, "one-way delay, each direction")
	flag.DurationVar(&p.Jitter, "jitter", 0, "delay varies uniformly by ± this (frames stay in order)")
	flag.Float64Var(&loss, "loss", 0, "loss probability")
	flag.Float64Var(&reorder, "reorder", 0, "probability a frame is held back by -reorder-by")
	flag.DurationVar(&p.ReorderBy, "reorder-by", 10*time.Millisecond, "how long a reordered frame is held back")
	flag.Float64Var(&dupProb, "dup", 0, "duplication probability")
	flag.Int64Var(&rate, "rate", 0, "bottleneck rate in bit/s (0: none)")
	flag.IntVar(&p.Queue, "queue", 100, "bottleneck queue in frames (tail drop)")
	flag.StringVar(&c2s, "c2s", "", "client→server overrides, key=value,... (delay, jitter, loss, reorder, reorder_by, dup, rate, queue)")
	flag.StringVar(&s2c, "s2c", "", "server→client overrides")
	flag.Uint64Var(&seed, "seed", 1, "random seed")
	flag.DurationVar(&maxDur, "max-duration", 0, "stop after this long (required)")
	flag.DurationVar(&drain, "drain", 5*time.Second, "on SIGTERM, keep forwarding the frames already in the path for at most this long")
	flag.DurationVar(&holeAfter, "blackhole-after", 0, "drop every frame both ways from this long after the start (0: never)")
	flag.IntVar(&maxFrames, "max-frames", 20000, "frames held per direction at most (beyond: dropped, counted as overflow)")
	flag.IntVar(&maxBytes, "max-bytes", 32<<20, "bytes held per direction at most")
	flag.Parse()
	p.Loss, p.Reorder, p.Dup, p.Rate = loss, reorder, dupProb, rate
	if drain < 0 || drain > time.Minute {
		fatalf("-drain must be in [0, 1m]")
	}
	if maxDur <= 0 || maxDur > time.Hour {
		fatalf("-max-duration must be in (0, 1h]")
	}
	dirs := []*direction{
		{name: "c2s", in: ifA, out: ifB, p: p},
		{name: "s2c", in: ifB, out: ifA, p: p},
	}
	for i, spec := range []string{c2s, s2c} {
		if err := dirs[i].p.set(spec); err != nil {
			fatalf("-%s: %v", dirs[i].name, err)
		}
	}
	fds := map[string]*os.File{}
	for _, name := range []string{ifA, ifB} {
		fd, err := openPacket(name)
		if err != nil {
			fatalf("%s: %v", name, err)
		}
		fds[name] = fd
	}
	start := time.Now()
	fmt.Fprintf(os.Stderr, "pathemu start %.6f seed=%d max_duration=%v blackhole_after=%v\n", unixSec(start), seed, maxDur, holeAfter)
	for i, d := range dirs {
		d.sh = newShaper(d.p, seed, uint64(i))
		if holeAfter > 0 {
			d.sh.holeAt = start.Add(holeAfter)
		}
		d.line = newDelayLine(maxFrames, maxBytes)
		d.inF, d.outF = fds[d.in], fds[d.out]
		fmt.Fprintf(os.Stderr, "pathemu %s %s->%s %v\n", d.name, d.in, d.out, d.p)
		go d.read()
		go d.send()
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	var hole <-chan time.Time
	if holeAfter > 0 {
		hole = time.After(holeAfter)
	}
	stop := time.After(maxDur)
	for {
		select {
		case <-hole:
			fmt.Fprintf(os.Stderr, "pathemu blackhole %.6f\n", unixSec(time.Now()))
			continue
		case s := <-sig:
			fmt.Fprintf(os.Stderr, "pathemu stop %.6f (%v)\n", unixSec(time.Now()), s)
			// frames already on their way still arrive (a reply, the RST
			// it draws): keep forwarding until the lines have been empty
			// for 200 ms, for at most -drain
			deadline := time.Now().Add(drain)
			for quiet := 0; quiet < 20 && time.Now().Before(deadline); {
				quiet++
				if dirs[0].line.len() > 0 || dirs[1].line.len() > 0 {
					quiet = 0
				}
				time.Sleep(10 * time.Millisecond)
			}
			fmt.Fprintf(os.Stderr, "pathemu drained %.6f\n", unixSec(time.Now()))
		case <-stop:
			fmt.Fprintf(os.Stderr, "pathemu stop %.6f (max-duration)\n", unixSec(time.Now()))
		}
		break
	}
	for _, d := range dirs {
		d.report()
	}
}

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "pathemu: "+format+"\n", a...)
	os.Exit(2)
}

func unixSec(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// direction is one way through the path: a reader that shapes and queues,
// and a sender that sends each frame at its due time.
type direction struct {
	name, in, out string
	p             params
	inF, outF     *os.File // AF_PACKET sockets, non-blocking: reads wait in Go's poller, not in a thread holding a P
	sh            *shaper
	line          *delayLine

	mu sync.Mutex // guards sh (read by report while read runs)

	forwarded, sendErrors, overflow atomic.Int64
	lateSum, lateMax, lateN         atomic.Int64 // how late frames left (ns)
}

func (d *direction) read() {
	buf := make([]byte, 65536)
	for {
		n, err := d.inF.Read(buf)
		now := time.Now()
		if err != nil {
			fatalf("%s: read: %v", d.in, err)
		}
		d.mu.Lock()
		_, dues := d.sh.admit(now, n)
		d.mu.Unlock()
		for _, due := range dues {
			data := append([]byte(nil), buf[:n]...)
			if !d.line.add(due, data) {
				d.overflow.Add(1)
			}
		}
	}
}

func (d *direction) send() {
	t := time.NewTimer(time.Hour)
	for {
		f, due := d.line.next(time.Now())
		if f != nil {
			if _, err := d.outF.Write(f.data); err != nil {
				d.sendErrors.Add(1)
			} else {
				d.forwarded.Add(1)
			}
			late := int64(time.Since(f.due))
			d.lateSum.Add(late)
			d.lateN.Add(1)
			if late > d.lateMax.Load() {
				d.lateMax.Store(late)
			}
			continue
		}
		wait := time.Hour
		if !due.IsZero() {
			wait = time.Until(due)
		}
		t.Reset(wait)
		select {
		case <-t.C:
		case <-d.line.wake:
			if !t.Stop() {
				<-t.C
			}
		}
	}
}

func (d *direction) report() {
	d.mu.Lock()
	n := d.sh.n
	d.mu.Unlock()
	var mean time.Duration
	if k := d.lateN.Load(); k > 0 {
		mean = time.Duration(d.lateSum.Load() / k)
	}
	fmt.Fprintf(os.Stderr, "pathemu %s received=%d forwarded=%d lost=%d queue_drops=%d blackholed=%d overflow=%d duplicated=%d reordered=%d queue_max=%d send_errors=%d late_mean=%v late_max=%v\n",
		d.name, n.received, d.forwarded.Load(), n.lost, n.queueDrops, n.blackholed, d.overflow.Load(), n.duplicated, n.reordered, n.queueMax, d.sendErrors.Load(),
		mean.Round(time.Microsecond), time.Duration(d.lateMax.Load()).Round(time.Microsecond))
}

// openPacket opens an AF_PACKET socket bound to one interface that sees
// every frame arriving there (any destination) and none that leave it.
func openPacket(name string) (*os.File, error) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return nil, err
	}
	proto := htons(unix.ETH_P_ALL)
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(proto))
	if err != nil {
		return nil, err
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: proto, Ifindex: ifi.Index}); err != nil {
		return nil, err
	}
	// our own sends on this interface are not read back
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1); err != nil {
		return nil, err
	}
	// room for bursts (FORCE: beyond net.core.rmem_max, as root)
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 4<<20); err != nil {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20); err != nil {
			return nil, err
		}
	}
	// non-blocking: the runtime's poller waits for frames; a read blocked
	// in a system call would hold one of the few Ps until sysmon takes it
	// back (up to ~10-20 ms), and the senders' timers would wait for it
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), name), nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
