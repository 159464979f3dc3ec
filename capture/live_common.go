package capture

import (
	"errors"
	"time"
)

// Errors of live capture a caller may branch on.
var (
	// ErrTimeout: no packet arrived within the read timeout. Not a failure.
	ErrTimeout = errors.New("read timeout")
	// ErrPermission: the process may not capture (needs CAP_NET_RAW).
	ErrPermission = errors.New("no permission to capture")
	// ErrNoInterface: the interface does not exist.
	ErrNoInterface = errors.New("no such interface")
)

// LiveConfig says what and how to capture.
type LiveConfig struct {
	Interface  string // "any" for all interfaces
	Snaplen    int    // bytes kept per packet
	BufferSize int    // kernel buffer in bytes; 0 = libpcap's default
	Filter     string // BPF expression compiled into the kernel
	// CookedFilter replaces Filter on a cooked capture (-i any: Linux SLL
	// or SLL2), where VLAN tags are out of band and libpcap refuses "vlan".
	CookedFilter string
	Timeout      time.Duration // read timeout; default 100 ms
	Promisc      bool
}

// LiveStats are the capture counters libpcap keeps.
type LiveStats struct {
	Received      int64 // packets that passed the filter
	KernelDropped int64 // dropped because the buffer was full
	IfDropped     int64 // dropped by the interface or its driver
}

// Interface is one capturable interface.
type Interface struct {
	Name        string
	Description string
	Addresses   []string
	Flags       []string
}
