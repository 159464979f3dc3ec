// Command seedtraces rebuilds, packet for packet, the two tcpdump traces of the
// seed document shared/seeds/000_14b9e56f8235ac02.txt as classic pcap files
// (Ethernet link type), fills in the probes the text elides, and writes one
// manifest entry per file computed from the packets read back from disk.
//
//	go run ./lab/seedtraces -out testdata/pcaps -entries lab/scratch/entries
//
// The output is deterministic: two runs give byte-identical files.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	out := flag.String("out", "testdata/pcaps", "directory for the pcap files")
	entries := flag.String("entries", "lab/scratch/entries", "directory for the manifest entries (*.entry.json)")
	flag.Parse()
	written, err := run(*out, *entries)
	if err != nil {
		fmt.Fprintln(os.Stderr, "seedtraces:", err)
		os.Exit(1)
	}
	for _, w := range written {
		fmt.Println(w)
	}
}

// run builds both traces, writes their pcaps into outDir and their manifest
// entries into entriesDir, and returns the paths written.
func run(outDir, entriesDir string) ([]string, error) {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(entriesDir, 0o755); err != nil {
		return nil, err
	}
	var written []string
	for _, build := range []func() (*trace, error){buildServerAlive, buildClientAlive} {
		tr, err := build()
		if err != nil {
			return nil, err
		}
		pcapPath := filepath.Join(outDir, tr.File)
		data, err := tr.pcap()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", tr.File, err)
		}
		if err := os.WriteFile(pcapPath, data, 0o644); err != nil {
			return nil, err
		}
		// The entry is computed from the file as written, not from tr.Pkts.
		e, err := entryFor(tr, pcapPath)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", tr.File, err)
		}
		js, err := e.marshal()
		if err != nil {
			return nil, err
		}
		entryPath := filepath.Join(entriesDir, strings.TrimSuffix(tr.File, ".pcap")+".entry.json")
		if err := os.WriteFile(entryPath, js, 0o644); err != nil {
			return nil, err
		}
		written = append(written, pcapPath, entryPath)
	}
	return written, nil
}
