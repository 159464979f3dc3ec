package analyze

import (
	"bytes"
	"encoding/binary"
)

// hsState is where a direction's clear-text handshake parse stands.
type hsState uint8

const (
	hsBanner    hsState = iota // reading pre-banner lines and the version line
	hsPackets                  // reading clear-text binary packets
	hsEncrypted                // NEWKEYS sent: everything after is encrypted
	hsFailed                   // gap, truncation, SSH-1, or garbage: sizes unknown
)

// handshake reassembles one direction's clear-text prologue (banner and
// packets up to NEWKEYS) in sequence order. Its buffer is bounded and
// released once the direction turns encrypted or the parse fails.
type handshake struct {
	budget  *hsBudget // shared by the Tracker's connections (nil: none)
	state   hsState
	started bool
	next    uint32 // sequence number of the next byte expected
	buf     []byte
	banner  Banner
	// otherLines counts complete lines read before any banner, from the
	// direction's first byte: a client's first line must be its banner
	// (RFC 4253 §4.2), so one is enough to rule SSH out.
	otherLines int
	kex        kexInit
	hasKex     bool
}

// start sets the sequence number of the first byte (after the SYN).
func (h *handshake) start(seq uint32) {
	h.next, h.started = seq, true
}

// hsBudget accounts the bytes all handshakes of a Tracker hold.
type hsBudget struct{ used, max int }

// feed adds a segment's payload. full is false when the capture truncated it.
func (h *handshake) feed(seq uint32, payload []byte, payloadLen int, full bool) {
	held := len(h.buf)
	h.take(seq, payload, payloadLen, full)
	if h.budget != nil {
		h.budget.used += len(h.buf) - held
	}
}

// release gives back what h holds to the budget.
func (h *handshake) release() {
	if h.budget != nil {
		h.budget.used -= len(h.buf)
	}
	h.buf = nil
}

func (h *handshake) take(seq uint32, payload []byte, payloadLen int, full bool) {
	if h.state >= hsEncrypted || payloadLen == 0 {
		return
	}
	if !h.started {
		// Mid-stream: only a segment that starts a banner starts the parse.
		if !bytes.HasPrefix(payload, []byte("SSH-")) {
			h.fail()
			return
		}
		h.start(seq)
	}
	off := int32(h.next - seq)
	switch {
	case off < 0:
		h.fail() // a gap: bytes missing from the capture
		return
	case int(off) >= payloadLen:
		return // retransmission of bytes already taken
	}
	if !full {
		h.fail()
		return
	}
	payload = payload[off:]
	if len(h.buf)+len(payload) > maxHandshakeBuf || h.budget != nil && h.budget.used+len(payload) > h.budget.max {
		h.fail()
		return
	}
	h.buf = append(h.buf, payload...)
	h.next += uint32(len(payload))
	h.parse()
}

func (h *handshake) fail() {
	h.state = hsFailed
	h.buf = nil
}

func (h *handshake) parse() {
	for {
		switch h.state {
		case hsBanner:
			i := bytes.IndexByte(h.buf, '\n')
			if i < 0 {
				if len(h.buf) > maxBannerBytes {
					h.fail()
				}
				return
			}
			line := string(bytes.TrimRight(h.buf[:i], "\r"))
			h.buf = h.buf[i+1:]
			if b, ok := parseBanner(line); ok {
				h.banner = b
				if b.Proto != "2.0" && b.Proto != "1.99" {
					h.fail() // SSH-1: another packet format
					return
				}
				h.state = hsPackets
			} else {
				h.otherLines++
			}
			// Other lines before the banner are allowed (RFC 4253 §4.2).
		case hsPackets:
			if len(h.buf) < 5 {
				return
			}
			plen := binary.BigEndian.Uint32(h.buf)
			if plen < 5 || plen > maxClearPacketLen {
				h.fail()
				return
			}
			total := 4 + int(plen)
			if len(h.buf) < total {
				return
			}
			pad := int(h.buf[4])
			if pad+1 > int(plen) {
				h.fail()
				return
			}
			payload := h.buf[5 : total-pad]
			if len(payload) > 0 {
				switch payload[0] {
				case msgKexInit:
					if !h.hasKex {
						h.kex, h.hasKex = parseKexInit(payload)
					}
				case msgNewKeys:
					h.state = hsEncrypted
					h.buf = nil
					return
				}
			}
			h.buf = h.buf[total:]
		default:
			return
		}
	}
}
