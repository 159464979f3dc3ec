package main

import (
	"path/filepath"
	"runtime"
	"testing"
)

// TestReadShapes: a file read in blocks gives what the single reader gives
// (-c with a limit never reached takes that path), byte for byte, exit
// code and messages included: with the default blocks, and with blocks of
// 1000 bytes on 3 workers, which makes every record boundary a guess and
// every capture many blocks. The inputs are the lab's captures, the public
// traces and the damaged files.
func TestReadShapes(t *testing.T) {
	var files []string
	for _, glob := range []string{"*.pcap", "../public/*.pcap", "../broken/*.pcap"} {
		m, _ := filepath.Glob(filepath.Join(pcapDir, glob))
		files = append(files, m...)
	}
	if len(files) < 80 {
		t.Fatalf("only %d captures", len(files))
	}
	defer func(n, b int) { runtime.GOMAXPROCS(n); blockBytes = b }(runtime.GOMAXPROCS(0), blockBytes)
	for _, name := range files {
		for _, mode := range []string{"--json", "--events"} {
			wantOut, wantErr, wantCode := sshalive(t, "-r", name, mode, "-c", "1000000000")
			for _, shape := range []struct{ cores, block int }{{runtime.NumCPU(), blockBytes}, {3, 1000}} {
				runtime.GOMAXPROCS(shape.cores)
				blockBytes = shape.block
				out, errb, code := sshalive(t, "-r", name, mode)
				if out != wantOut || errb != wantErr || code != wantCode {
					t.Errorf("%s %s, blocks of %d bytes on %d cores: exit %d, stderr %q, %d bytes out; the single reader: exit %d, stderr %q, %d bytes",
						filepath.Base(name), mode, shape.block, shape.cores, code, errb, len(out), wantCode, wantErr, len(wantOut))
				}
			}
		}
	}
}
