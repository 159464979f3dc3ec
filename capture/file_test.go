package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
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

// TestReaderMatchesPcapgo: on the bundled captures, the reader returns what
// gopacket's pcapgo (which sshalive used before) returns, packet for packet.
func TestReaderMatchesPcapgo(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "pcaps", "*.pcap"))
	files = append(files, filepath.Join("..", "testdata", "broken", "good.pcapng"))
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var ref interface {
			ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
		}
		if strings.HasSuffix(path, ".pcapng") {
			ref, err = pcapgo.NewNgReader(bytes.NewReader(b), pcapgo.NgReaderOptions{})
		} else {
			ref, err = pcapgo.NewReader(bytes.NewReader(b))
		}
		if err != nil {
			t.Fatal(err)
		}
		f, err := OpenFile("-", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; ; i++ {
			want, wci, werr := ref.ReadPacketData()
			got, gci, gerr := f.ReadPacket()
			if werr != nil || gerr != nil {
				if werr != io.EOF || gerr != io.EOF {
					t.Errorf("%s: packet %d: err %v, pcapgo %v", path, i, gerr, werr)
				}
				break
			}
			if !bytes.Equal(got, want) || !gci.Timestamp.Equal(wci.Timestamp) || gci.CaptureLength != wci.CaptureLength || gci.Length != wci.Length {
				t.Fatalf("%s: packet %d differs: %+v, pcapgo %+v", path, i, gci, wci)
			}
		}
	}
}

// TestByteOrders: big-endian pcap with nanosecond timestamps and
// big-endian pcapng with nanosecond resolution read as the little-endian
// microsecond originals.
func TestByteOrders(t *testing.T) {
	_, pkts := seedPackets(t)
	be := binary.BigEndian
	u32 := func(b []byte, v ...uint32) []byte {
		for _, x := range v {
			b = be.AppendUint32(b, x)
		}
		return b
	}
	pc := u32(nil, 0xa1b23c4d, 2<<16|4, 0, 0, 262144, 1)
	ng := u32(nil, 0x0a0d0d0a, 28, 0x1a2b3c4d, 1<<16, 0xffffffff, 0xffffffff, 28)
	ng = u32(ng, 1, 32, 1<<16, 262144, 9<<16|1, 9<<24, 0, 32) // if_tsresol 9: nanoseconds
	for _, p := range pkts {
		pc = append(u32(pc, p.Sec, p.Usec*1000, uint32(len(p.Data)), p.Len), p.Data...)
		ns := uint64(p.Sec)*1e9 + uint64(p.Usec)*1000
		padded := len(p.Data) + (4-len(p.Data)&3)&3
		ng = u32(ng, 6, uint32(32+padded), 0, uint32(ns>>32), uint32(ns), uint32(len(p.Data)), p.Len)
		ng = append(ng, p.Data...)
		ng = u32(append(ng, make([]byte, padded-len(p.Data))...), uint32(32+padded))
	}
	for name, b := range map[string][]byte{"pcap": pc, "pcapng": ng} {
		f, err := OpenFile("-", bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for i, p := range pkts {
			data, ci, err := f.ReadPacket()
			if err != nil {
				t.Fatalf("%s: packet %d: %v", name, i, err)
			}
			if !bytes.Equal(data, p.Data) || !ci.Timestamp.Equal(time.Unix(int64(p.Sec), int64(p.Usec)*1000)) || ci.Length != int(p.Len) {
				t.Fatalf("%s: packet %d: %+v", name, i, ci)
			}
		}
		if _, _, err := f.ReadPacket(); err != io.EOF {
			t.Errorf("%s: end %v", name, err)
		}
	}
}
