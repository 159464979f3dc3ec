//go:build linux

package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestNotSSH: HTTP on a port given with -p, with requests every 20 s whose
// sizes an SSH keepalive could have, gets no SSH verdict: "port 28080: not
// SSH" in the text, not_ssh and no SSH keepalives or advice in JSON.
func TestNotSSH(t *testing.T) {
	path := filepath.Join(t.TempDir(), "http.pcap")
	cli, srv := [4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}
	writeFrames(t, path, func(f *frames) {
		f.tcp(cli, srv, 40000, 28080, 99, 0, flagSYN, nil)
		f.tcp(srv, cli, 28080, 40000, 499, 100, flagSYN|flagACK, nil)
		f.tcp(cli, srv, 40000, 28080, 100, 500, flagACK, nil)
		cseq, sseq := uint32(100), uint32(500)
		for i := 0; i < 8; i++ {
			req := []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			resp := []byte("HTTP/1.1 204 No Content\r\n\r\n")
			if i > 0 { // later requests and answers the size of a keepalive and its reply
				req, resp = make([]byte, 52), make([]byte, 28)
			}
			f.at = f.at.Add(20 * time.Second)
			f.tcp(cli, srv, 40000, 28080, cseq, sseq, flagPSH|flagACK, req)
			cseq += uint32(len(req))
			f.at = f.at.Add(20 * time.Millisecond)
			f.tcp(srv, cli, 28080, 40000, sseq, cseq, flagPSH|flagACK, resp)
			sseq += uint32(len(resp))
			f.at = f.at.Add(time.Millisecond)
			f.tcp(cli, srv, 40000, 28080, cseq, sseq, flagACK, nil)
		}
	})
	text, stderr, code := sshalive(t, "-r", path, "-p", "28080")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(text, "port 28080: not SSH") || strings.Contains(text, "risk:") || strings.Contains(text, "recommended") || strings.Contains(text, "SSH keepalives") {
		t.Errorf("text:\n%s", text)
	}
	js, _, _ := sshalive(t, "-r", path, "-p", "28080", "--json")
	conns := connRecords(t, js)
	if len(conns) != 1 || !conns[0].NotSSH || len(conns[0].SSHKeepalives) != 0 || len(conns[0].Recommendations) != 0 {
		t.Errorf("JSON: %s", js)
	}
}
