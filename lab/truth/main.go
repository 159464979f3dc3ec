// Command truth builds testdata/pcaps/manifest.json, the ground truth of the
// lab captures, from the wire (tshark field output over each capture) and the
// endpoints' timestamped debug logs that lab/captures.sh kept in lab/scratch.
//
// It deliberately shares no code with the analyzer (standard library only, no
// gopacket): its counts must stay independent of what sshalive computes.
//
//	go run ./lab/truth -work lab/scratch -out testdata/pcaps [NAME...]
//
// With names, only those scenarios are recomputed; the manifest keeps every
// other capture's entry. Entries written by lab/seedtraces
// (lab/scratch/entries/*.entry.json) are merged after their packet count is
// checked against tshark.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

const manifestName = "manifest.json"

type manifest struct {
	Version  int               `json:"version"`
	OpenSSH  string            `json:"openssh"`
	Captures []json.RawMessage `json:"captures"`
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("truth: ")
	work := flag.String("work", "lab/scratch", "lab work directory (one NAME/ per scenario)")
	out := flag.String("out", "testdata/pcaps", "capture directory holding manifest.json")
	flag.Parse()
	if err := run(*work, *out, flag.Args()); err != nil {
		log.Fatal(err)
	}
}

func run(work, out string, names []string) error {
	mpath := filepath.Join(out, manifestName)
	entries := map[string]json.RawMessage{}
	var man manifest
	if b, err := os.ReadFile(mpath); err == nil {
		if err := json.Unmarshal(b, &man); err != nil {
			return fmt.Errorf("read %s: %w", mpath, err)
		}
		for _, raw := range man.Captures {
			var h struct {
				File string `json:"file"`
			}
			if err := json.Unmarshal(raw, &h); err != nil {
				return fmt.Errorf("read %s: %w", mpath, err)
			}
			entries[h.File] = raw
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if len(names) == 0 {
		ms, _ := filepath.Glob(filepath.Join(work, "*", "meta.tsv"))
		for _, m := range ms {
			names = append(names, filepath.Base(filepath.Dir(m)))
		}
		sort.Strings(names)
	}
	failed := 0
	rebuilt := map[string]bool{}
	for _, n := range names {
		c, version, err := buildCapture(filepath.Join(work, n), out)
		if err != nil {
			log.Printf("%s: %v", n, err)
			failed++
			continue
		}
		if version != "" {
			man.OpenSSH = version
		}
		raw, err := marshal(c, "")
		if err != nil {
			return err
		}
		entries[c.File] = raw
		rebuilt[c.File] = true
		summary(c)
	}
	// entries kept from the manifest: add the fields newer than they are
	upgraded := 0
	for f, raw := range entries {
		if rebuilt[f] {
			continue
		}
		nr, ok, err := upgradeEntry(raw, out, man.OpenSSH)
		if err != nil {
			log.Printf("%s: not upgraded: %v", f, err)
			continue
		}
		if ok {
			entries[f] = nr
			upgraded++
		}
	}
	if upgraded > 0 {
		log.Printf("%d kept entries given implementations/request_name/reply_expected/setting", upgraded)
	}
	// entries made by other lab programs (lab/seedtraces)
	eps, _ := filepath.Glob(filepath.Join(work, "entries", "*.entry.json"))
	for _, ep := range eps {
		raw, err := os.ReadFile(ep)
		if err != nil {
			return err
		}
		var h struct {
			File    string `json:"file"`
			Packets int    `json:"packets"`
		}
		if err := json.Unmarshal(raw, &h); err != nil {
			return fmt.Errorf("%s: %w", ep, err)
		}
		pkts, err := readWire(filepath.Join(out, h.File))
		if err != nil {
			log.Printf("%s: %v", ep, err)
			failed++
			continue
		}
		if len(pkts) != h.Packets {
			log.Printf("%s: says %d packets, tshark reads %d in %s: not merged", ep, h.Packets, len(pkts), h.File)
			failed++
			continue
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return fmt.Errorf("%s: %w", ep, err)
		}
		entries[h.File] = buf.Bytes()
		log.Printf("%s: merged (%d packets, checked)", h.File, h.Packets)
	}
	files := make([]string, 0, len(entries))
	for f := range entries {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			log.Printf("%s: no such capture, dropped from the manifest", f)
			continue
		}
		files = append(files, f)
	}
	sort.Strings(files)
	man.Version = 1
	man.Captures = man.Captures[:0]
	for _, f := range files {
		man.Captures = append(man.Captures, entries[f])
	}
	b, err := marshal(man, "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(mpath, b, 0o644); err != nil {
		return err
	}
	log.Printf("wrote %s: %d captures", mpath, len(files))
	if err := writeReadme(filepath.Join(out, "README.md"), man.Captures); err != nil {
		log.Printf("README not updated: %v", err)
	}
	if failed > 0 {
		return fmt.Errorf("%d scenario(s) failed", failed)
	}
	return nil
}

// marshal writes JSON without HTML escaping ("cat >/dev/null" stays readable),
// indented when indent is set, with a final newline.
func marshal(v any, indent string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func summary(c *capture) {
	var parts []string
	for _, cn := range c.Connections {
		var s []string
		for _, k := range cn.SSHKeepalives {
			s = append(s, fmt.Sprintf("ssh %s %d/%d %dB/%dB", k.Sender, k.Answered, k.Probes, k.ProbeBytes, k.ReplyBytes))
		}
		for _, k := range cn.TCPKeepalives {
			s = append(s, fmt.Sprintf("tcp %s %d/%d", k.Sender, k.Answered, k.Probes))
		}
		s = append(s, "end "+cn.End.How+" "+cn.End.By)
		parts = append(parts, strings.Join(s, ", "))
	}
	log.Printf("%s: %d packets; %s", c.File, c.Packets, strings.Join(parts, " | "))
}
