//go:build linux

package capture

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Live is a live capture through a Linux AF_PACKET socket with a
// TPACKET_V3 ring (gopacket's afpacket, pure Go): no libpcap, no cgo.
//
// A named Ethernet or loopback interface is read as Ethernet frames
// (SOCK_RAW; VLAN tags the kernel took out of band are put back). "any"
// and interfaces without an Ethernet header (tun, ppp, wireguard) are read
// cooked (SOCK_DGRAM) as raw IP packets, the network header first, which
// the decoder and pcap files know as link type RAW.
type Live struct {
	tp      *afpacket.TPacket
	lt      layers.LinkType
	snaplen int
	filter  string
}

// ringBlock is one TPACKET_V3 block: the kernel fills blocks with packets
// of any size and hands over a block when it is full or retireAfter old.
const (
	ringBlock   = 1 << 20
	ringFrame   = 1 << 11
	defaultRing = 8 << 20
	retireAfter = 20 * time.Millisecond
)

// OpenLive opens iface ("any" for all), attaches the filter in the kernel
// before any packet is read, and starts the capture. Reads time out after
// cfg.Timeout so a silent interface never blocks the caller.
func OpenLive(cfg LiveConfig) (*Live, error) {
	ls, err := OpenLiveGroup(cfg, 1)
	if err != nil {
		return nil, err
	}
	return ls[0], nil
}

// OpenLiveGroup opens n sockets on the interface in one fanout group
// (PACKET_FANOUT_HASH: the kernel hashes a packet's addresses and ports the
// same both ways, so each connection reaches one socket, whole), for n
// goroutines to read; the ring (cfg.BufferSize) is shared out between them.
// Every socket joins the group while its filter still takes nothing, and
// the filters are set together once all have joined: no packet reaches two
// sockets, and none is lost but in the few system calls between.
func OpenLiveGroup(cfg LiveConfig, n int) ([]*Live, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 100 * time.Millisecond
	}
	if cfg.Snaplen <= 0 || cfg.Snaplen > MaxPacket {
		cfg.Snaplen = MaxPacket
	}
	n = max(n, 1)
	bind, cooked, err := socketKind(cfg.Interface)
	if err != nil {
		return nil, err
	}
	lt, socket, filter := layers.LinkTypeEthernet, afpacket.SocketRaw, cfg.Filter
	if cooked {
		lt, socket = layers.LinkTypeRaw, afpacket.SocketDgram
		if cfg.CookedFilter != "" {
			filter = cfg.CookedFilter
		}
	}
	prog, err := kernelProgram(filter, lt, cfg.Snaplen)
	if err != nil {
		return nil, err
	}
	ring := cfg.BufferSize
	if ring == 0 {
		ring = defaultRing
	}
	blocks := max(ring/n/ringBlock, 2)
	var ls []*Live
	closeAll := func() {
		for _, l := range ls {
			l.tp.Close()
		}
	}
	group := fanoutID()
	for range n {
		l := &Live{lt: lt, snaplen: cfg.Snaplen, filter: filter}
		l.tp, err = afpacket.NewTPacket(afpacket.OptInterface(bind), socket, afpacket.TPacketVersion3,
			afpacket.OptFrameSize(ringFrame), afpacket.OptBlockSize(ringBlock), afpacket.OptNumBlocks(blocks),
			afpacket.OptBlockTimeout(retireAfter), afpacket.OptPollTimeout(cfg.Timeout), afpacket.OptAddVLANHeader(!cooked))
		if err != nil {
			closeAll()
			return nil, liveErr(cfg.Interface, err)
		}
		ls = append(ls, l)
		if err := l.quiet(); err != nil {
			closeAll()
			return nil, fmt.Errorf("%s: filter %q: %w", cfg.Interface, filter, err)
		}
	}
	// All join, then all start: a packet the group hands to a socket still
	// taking nothing is lost, so that window is kept to a few system calls.
	for _, l := range ls {
		if n == 1 {
			break
		}
		if err := l.tp.SetFanout(afpacket.FanoutHash, group); err != nil {
			closeAll()
			return nil, fmt.Errorf("%s: fanout group of %d sockets: %w", cfg.Interface, n, err)
		}
	}
	for _, l := range ls {
		if err := l.start(prog); err != nil {
			closeAll()
			return nil, fmt.Errorf("%s: filter %q: %w", cfg.Interface, filter, err)
		}
		if cfg.Promisc && bind != "" {
			if err := l.tp.SetPromiscuous(true); err != nil {
				closeAll()
				return nil, liveErr(cfg.Interface, err)
			}
		}
	}
	return ls, nil
}

// fanoutID is a fanout group id for this process's sockets. Groups are
// shared by id across processes (gopacket's afpacket offers no way to have
// the kernel pick a free one), so it is drawn at random above the ids other
// capture tools use by default (Suricata 99, Zeek 23): two captures of one
// interface share a group, and split its packets, once in about 64 000.
func fanoutID() uint16 {
	var b [2]byte
	if _, err := rand.Read(b[:]); err != nil {
		return uint16(1024 + os.Getpid()%64000)
	}
	return 1024 + binary.LittleEndian.Uint16(b[:])%64000
}

// socketKind says which interface to bind ("" for all) and whether to read
// it cooked.
func socketKind(iface string) (bind string, cooked bool, err error) {
	if iface == "any" {
		return "", true, nil
	}
	if _, err := net.InterfaceByName(iface); err != nil {
		return "", false, fmt.Errorf("%s: %w (sshalive -D lists the interfaces)", iface, ErrNoInterface)
	}
	// ARPHRD_ETHER (1) and ARPHRD_LOOPBACK (772) carry an Ethernet header.
	raw, err := os.ReadFile("/sys/class/net/" + iface + "/type")
	t := strings.TrimSpace(string(raw))
	return iface, err != nil || (t != "1" && t != "772"), nil
}

// quiet and start put the filter in the kernel. The socket was bound, and
// may have queued packets, before a filter could be set, so, as libpcap
// does, a filter that takes nothing goes first and the ring is emptied
// (quiet); only then the real program replaces it (start): no packet the
// filter would refuse is read.
func (l *Live) quiet() error {
	if err := l.tp.SetBPF([]bpf.RawInstruction{{Op: unix.BPF_RET | unix.BPF_K, K: 0}}); err != nil {
		return err
	}
	deadline := time.Now().Add(2 * time.Second)
	for range defaultRing / 64 { // bounded: more than a ring's worth of the smallest packets
		if _, _, err := l.tp.ZeroCopyReadPacketData(); err != nil || time.Now().After(deadline) {
			break
		}
	}
	return nil
}

func (l *Live) start(prog []bpf.RawInstruction) error {
	if err := l.tp.SetBPF(prog); err != nil {
		return err
	}
	return l.tp.InitSocketStats()
}

// kernelProgram compiles expr for the socket's frames and puts a guard in
// front: the loopback device's outgoing copy of a packet is refused (it
// comes again as incoming), so -i any and -i lo see each packet once, as
// with tcpdump.
func kernelProgram(expr string, lt layers.LinkType, snaplen int) ([]bpf.RawInstruction, error) {
	prog := []bpf.RawInstruction{{Op: unix.BPF_RET | unix.BPF_K, K: uint32(snaplen)}}
	if expr != "" {
		var err error
		if prog, err = CompileBPF(expr, lt, snaplen); err != nil {
			return nil, err
		}
	}
	lo := loopbackIndex()
	if lo == 0 {
		return prog, nil
	}
	guard, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadExtension{Num: bpf.ExtInterfaceIndex},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(lo), SkipFalse: 3},
		bpf.LoadExtension{Num: bpf.ExtType},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.PACKET_OUTGOING, SkipFalse: 1},
		bpf.RetConstant{Val: 0},
	})
	if err != nil {
		return nil, err
	}
	return append(guard, prog...), nil
}

func loopbackIndex() int {
	ifs, _ := net.Interfaces()
	for _, i := range ifs {
		if i.Flags&net.FlagLoopback != 0 {
			return i.Index
		}
	}
	return 0
}

// liveErr names the interface and turns a refused socket into
// ErrPermission.
func liveErr(iface string, err error) error {
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
		return fmt.Errorf("%s: %w", iface, ErrPermission)
	}
	if errors.Is(err, syscall.ENODEV) || errors.Is(err, syscall.ENXIO) {
		return fmt.Errorf("%s: %w (sshalive -D lists the interfaces)", iface, ErrNoInterface)
	}
	return fmt.Errorf("%s: %w", iface, err)
}

// Filter is the BPF expression in the kernel.
func (l *Live) Filter() string { return l.filter }

// ReadPacket returns the next packet, or ErrTimeout when none came within
// the read timeout. The data is valid until the next call.
func (l *Live) ReadPacket() ([]byte, gopacket.CaptureInfo, error) {
	data, ci, err := l.tp.ZeroCopyReadPacketData()
	if errors.Is(err, afpacket.ErrTimeout) {
		return nil, ci, ErrTimeout
	}
	return data, ci, err
}

// LinkType of the frames: Ethernet, or RAW for a cooked socket.
func (l *Live) LinkType() layers.LinkType { return l.lt }

// Snaplen is the capture length in effect.
func (l *Live) Snaplen() int { return l.snaplen }

// Stats are the kernel's counters since the filter was attached.
func (l *Live) Stats() (LiveStats, error) {
	_, v3, err := l.tp.SocketStats()
	if err != nil {
		return LiveStats{}, err
	}
	return LiveStats{Received: int64(v3.Packets()), KernelDropped: int64(v3.Drops())}, nil
}

// Close releases the socket and its ring. Call it from the goroutine that
// reads: the data of the last read points into the ring.
func (l *Live) Close() error {
	l.tp.Close()
	return nil
}

// Interfaces lists the interfaces live capture can use, "any" first.
func Interfaces() ([]Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	out := []Interface{{Name: "any", Description: "all interfaces, read cooked (raw IP)", Flags: []string{"Up", "Running"}}}
	for _, n := range ifs {
		i := Interface{Name: n.Name}
		addrs, _ := n.Addrs()
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok {
				i.Addresses = append(i.Addresses, ipn.IP.String())
			}
		}
		for _, f := range []struct {
			flag net.Flags
			name string
		}{{net.FlagLoopback, "Loopback"}, {net.FlagUp, "Up"}, {net.FlagRunning, "Running"}} {
			if n.Flags&f.flag != 0 {
				i.Flags = append(i.Flags, f.name)
			}
		}
		out = append(out, i)
	}
	return out, nil
}

// SymmetricFanout reports whether the kernel's PACKET_FANOUT_HASH sends
// both directions of a connection to the same socket: it does since Linux
// 4.7 (the fanout hash became the symmetric flow hash); before, a NIC's own
// hash could split them, and every Tracker would see half of a connection.
func SymmetricFanout() bool {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	var major, minor int
	if _, err := fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &major, &minor); err != nil {
		return false
	}
	return major > 4 || major == 4 && minor >= 7
}
