package capture

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

const (
	// MaxPacket is the most bytes of one packet a File holds. A record or
	// packet block declaring more is read past in bounded chunks, counted
	// (Stats.Oversized) and not returned: sshalive keeps 2048 bytes of a
	// live packet and decodes at most the headers and the SSH handshake
	// (≤ 64 KB) of an offline one. 256 KiB is also the largest snap length
	// tcpdump writes.
	MaxPacket = 256 << 10
	// MaxInterfaces is how many interfaces of a pcapng section a File
	// remembers; packets of the others are counted (Stats.OtherInterface)
	// and read past.
	MaxInterfaces = 1024
)

// ErrDamaged marks a file some of whose packets were read past or repaired:
// ReadPacket returns a *DamageError wrapping it at the end of such a file.
var ErrDamaged = errors.New("damaged packets")

// Stats counts what a File read past or repaired.
type Stats struct {
	Oversized      int64 // packets over MaxPacket bytes, read past
	OversizedFirst int64 // the first of them: its number in the file, from 1
	OversizedLen   int64 // and its length
	BadTimestamps  int64 // timestamps before 1970 or after 9999, replaced by the previous packet's
	OtherInterface int64 // pcapng: packets of interfaces beyond MaxInterfaces, read past
	OtherLinkType  int64 // pcapng: packets of interfaces whose link type is not the first's, read past
	SkippedBlocks  int64 // pcapng: blocks of other kinds (decryption secrets, statistics, ...), read past
	Interfaces     int64 // pcapng: interface description blocks read
}

// DamageError says, in one line, what a File read past or repaired.
type DamageError struct {
	Stats    Stats
	LinkType string // the file's (first interface's) link type
}

func (e *DamageError) Error() string {
	s := e.Stats
	var parts []string
	switch {
	case s.Oversized == 1:
		parts = append(parts, fmt.Sprintf("skipped 1 packet larger than %d bytes (packet %d: %d bytes)", MaxPacket, s.OversizedFirst, s.OversizedLen))
	case s.Oversized > 1:
		parts = append(parts, fmt.Sprintf("skipped %d packets larger than %d bytes (the first, packet %d: %d bytes)", s.Oversized, MaxPacket, s.OversizedFirst, s.OversizedLen))
	}
	if s.OtherInterface > 0 {
		parts = append(parts, fmt.Sprintf("skipped %s of interfaces beyond the first %d", plural(s.OtherInterface, "packet"), MaxInterfaces))
	}
	if s.OtherLinkType > 0 {
		parts = append(parts, fmt.Sprintf("skipped %s of interfaces whose link type is not the first interface's (%s)", plural(s.OtherLinkType, "packet"), e.LinkType))
	}
	if s.BadTimestamps > 0 {
		parts = append(parts, fmt.Sprintf("%s before 1970 or after 9999 replaced by the previous packet's", plural(s.BadTimestamps, "timestamp")))
	}
	return strings.Join(parts, "; ")
}

func (e *DamageError) Unwrap() error { return ErrDamaged }

func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// maxUnix is 9999-12-31T23:59:59Z, the last second a timestamp may have.
const maxUnix = 253402300799

// readState is what a File's format reader shares with it: the counters,
// the packet buffer, the last valid timestamp.
type readState struct {
	Stats
	records int64 // records or packet blocks read, returned or not
	buf     []byte
	last    time.Time
	link    fmt.Stringer
}

// buffer returns n bytes (n ≤ MaxPacket) of the reused packet buffer.
func (s *readState) buffer(n int) []byte {
	if cap(s.buf) < n {
		s.buf = make([]byte, max(n, 64<<10))
	}
	return s.buf[:n]
}

func (s *readState) oversized(n int64) {
	if s.Oversized == 0 {
		s.OversizedFirst, s.OversizedLen = s.records, n
	}
	s.Oversized++
}

// timestamp returns sec.nsec, or, when it is not valid (ok false, before
// 1970 or after 9999), counts it and returns the previous valid timestamp
// (1970-01-01 when there is none): a packet stamped in the year 20000 or
// 1900 keeps its place in the sequence rather than opening a gap of
// millennia in the analysis.
func (s *readState) timestamp(sec, nsec int64, ok bool) time.Time {
	if !ok || sec < 0 || sec > maxUnix {
		s.BadTimestamps++
		return s.last
	}
	s.last = time.Unix(sec, nsec).UTC()
	return s.last
}

// damage returns a *DamageError when anything was read past or repaired.
func (s *readState) damage() error {
	st := s.Stats
	if st.Oversized+st.BadTimestamps+st.OtherInterface+st.OtherLinkType == 0 {
		return nil
	}
	e := &DamageError{Stats: st}
	if s.link != nil {
		e.LinkType = s.link.String()
	}
	return e
}
