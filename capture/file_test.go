package capture

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

func TestOpenFormats(t *testing.T) {
	fr := frame(t, []gopacket.SerializableLayer{eth(layers.EthernetTypeIPv4)}, false, []byte("SSH-2.0-test\r\n"))
	p := pcapBytes(t, layers.LinkTypeEthernet, fr, fr, fr)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(p)
	zw.Close()
	tests := []struct {
		name, format string
		data         []byte
		n            int
		err          error
	}{
		{"pcap", "pcap", p, 3, nil},
		{"gzip", "pcap+gzip", gz.Bytes(), 3, nil},
		{"truncated", "pcap", p[:len(p)-5], 2, ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := OpenFile("-", bytes.NewReader(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if f.Format() != tt.format || f.LinkType() != layers.LinkTypeEthernet {
				t.Errorf("format %s link %v", f.Format(), f.LinkType())
			}
			n := 0
			for {
				_, _, err = f.ReadPacket()
				if err != nil {
					break
				}
				n++
			}
			if n != tt.n {
				t.Errorf("%d packets, want %d", n, tt.n)
			}
			if tt.err == nil && err != io.EOF || tt.err != nil && !errors.Is(err, tt.err) {
				t.Errorf("err %v, want %v", err, tt.err)
			}
		})
	}
	for name, data := range map[string][]byte{"empty": nil, "text": []byte("not a capture at all"), "short": {0xd4, 0xc3}} {
		if _, err := OpenFile("-", bytes.NewReader(data)); err == nil {
			t.Errorf("%s: opened", name)
		}
	}
}
