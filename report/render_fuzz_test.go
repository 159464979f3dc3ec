package report

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"net/netip"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sshalive/sshalive/analyze"
)

// fuzzSummary turns bytes into segments of a few connections (12 bytes of
// header each, then payload) and returns the tracker's summary.
func fuzzSummary(data []byte) analyze.Summary {
	cli := netip.MustParseAddrPort("198.18.0.1:40000")
	srv := netip.MustParseAddrPort("198.18.0.2:22")
	tr := analyze.NewTracker(analyze.Config{Events: true, MaxEvents: 64, MaxConns: 4, Ports: []uint16{22}})
	at := t0
	for len(data) >= 12 {
		b := data[:12]
		data = data[12:]
		src, dst := cli, srv
		if b[0]&1 == 1 {
			src, dst = srv, cli
		}
		if b[0]&2 == 2 {
			src = netip.AddrPortFrom(src.Addr(), uint16(b[1]))
		}
		at = at.Add(time.Duration(b[2]) * 37 * time.Millisecond)
		n := int(b[3])
		payload := data[:min(len(data), n)]
		data = data[len(payload):]
		tr.Observe(analyze.Segment{At: at, Src: src, Dst: dst, Seq: binary.BigEndian.Uint32(b[4:]), Ack: binary.BigEndian.Uint32(b[8:]),
			Flags: analyze.TCPFlags(b[1]), Window: uint16(b[2]), PayloadLen: n, Payload: payload})
	}
	return tr.Flush()
}

// checkText: valid UTF-8, and no control or bidi character but newline
// (and tab) — nothing from the wire reaches a terminal raw.
func checkText(t *testing.T, what string, out []byte) {
	t.Helper()
	if !utf8.Valid(out) {
		t.Fatalf("%s: invalid UTF-8", what)
	}
	for _, r := range string(out) {
		if r != '\n' && r != '\t' && (unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)) {
			t.Fatalf("%s: raw %U in the output", what, r)
		}
	}
}

// FuzzRender: summaries of fuzzed traffic (banners, KEXINITs and sizes of
// any bytes) rendered as table, --events, JSON and HTML: no panic, counts
// that add up, no negative interval, and text fit for a terminal.
func FuzzRender(f *testing.F) {
	banner := []byte("SSH-2.0-Open\x1b]0;pwn\x07SSH_9.2\u202e\r\n")
	seg := func(flags byte, dir byte, gap byte, payload []byte) []byte {
		h := []byte{dir, flags, gap, byte(len(payload))}
		h = binary.BigEndian.AppendUint32(h, 1000)
		h = binary.BigEndian.AppendUint32(h, 5000)
		return append(h, payload...)
	}
	var seed []byte
	seed = append(seed, seg(0x02, 0, 0, nil)...)
	seed = append(seed, seg(0x12, 1, 1, nil)...)
	seed = append(seed, seg(0x18, 0, 1, banner)...)
	seed = append(seed, seg(0x18, 1, 1, banner)...)
	f.Add(seed)
	f.Add([]byte{0, 0x18, 40, 52, 0, 0, 0, 1, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		s := fuzzSummary(data)
		for _, c := range s.Conns {
			for _, k := range append(c.SSH, c.TCP...) {
				if k.Answered > k.Probes || k.Pending > k.Probes || k.TrailingUnanswered > k.Probes || k.Probes < 1 {
					t.Fatalf("counts do not add up: %+v", k)
				}
				if k.Interval.Min < 0 || k.IdleBefore.Min < 0 || k.ReplyLatency.Min < 0 {
					t.Fatalf("negative interval: %+v", k)
				}
			}
		}
		var b bytes.Buffer
		if err := Table(&b, s); err != nil {
			t.Fatal(err)
		}
		checkText(t, "table", b.Bytes())
		b.Reset()
		if err := Events(&b, s); err != nil {
			t.Fatal(err)
		}
		checkText(t, "events", b.Bytes())
		b.Reset()
		if err := HTML(&b, s, []string{"fuzz.pcap"}); err != nil {
			t.Fatal(err)
		}
		checkText(t, "html", b.Bytes())
		b.Reset()
		if err := JSON(&b, s, Totals{Files: []string{"fuzz.pcap"}}); err != nil {
			t.Fatal(err)
		}
		for _, line := range bytes.Split(bytes.TrimSpace(b.Bytes()), []byte("\n")) {
			if !json.Valid(line) {
				t.Fatalf("invalid JSON line: %q", line)
			}
		}
	})
}
