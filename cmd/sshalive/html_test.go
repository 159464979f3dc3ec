package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// chromium runs Debian's chromium headless on a local file with the network
// features off, and returns stdout and stderr.
func chromium(t *testing.T, args ...string) (string, string) {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed (make test-deps installs it): the HTML report is tested in a real browser")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0"}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, errb.String())
	}
	return out.String(), errb.String()
}

// TestHTMLInChromium renders the --html report of one lab capture per end
// cause in headless Chromium: no console message (an SVG attribute error is
// one), every connection's timeline, marks, cause and table in the DOM, and
// a screenshot (kept at $SSHALIVE_SCREENSHOT when set, for a person to look at).
func TestHTMLInChromium(t *testing.T) {
	captures := []struct{ file, cause string }{
		{"serveralive-hung.pcap", "keepalive-timeout"},
		{"clientalive-dead.pcap", "dead-path"},
		{"tcpka-dead.pcap", "tcp-keepalive-timeout"},
		{"idle-drop.pcap", "idle-drop"},
		{"tmout-serveralive.pcap", "idle-logout"},
		{"user-exit.pcap", "user-exit"},
		{"clientalive-nochannel.pcap", "open"},
		{"seed-serveralive.pcap", "idle-logout"},
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	args := []string{"--html", page}
	for _, c := range captures {
		args = append(args, "-r", filepath.Join(pcapDir, c.file))
	}
	if _, stderr, code := sshalive(t, args...); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"<script", "http://", "https://", "src=", "@import"} {
		if strings.Contains(string(html), bad) {
			t.Errorf("the report is not self-contained: it has %q", bad)
		}
	}
	url := "file://" + page
	dom, stderr := chromium(t, "--dump-dom", url)
	for _, line := range strings.Split(stderr, "\n") {
		if strings.Contains(line, ":CONSOLE") {
			t.Errorf("console: %s", line)
		}
	}
	// one section per connection, in capture order (the files are analysed
	// as one capture, ordered by first packet)
	sections := regexp.MustCompile(`<section class="conn" id="(conn-\d+)"[^>]*>`).FindAllStringSubmatch(dom, -1)
	if len(sections) != len(captures) {
		t.Fatalf("%d connection sections in the DOM, want %d", len(sections), len(captures))
	}
	causes := map[string]int{}
	for i, s := range sections {
		start := strings.Index(dom, s[0])
		end := len(dom)
		if i+1 < len(sections) {
			end = strings.Index(dom, sections[i+1][0])
		}
		sec := dom[start:end]
		for _, want := range []string{`class="timeline"`, `class="lane lane-client"`, `class="lane lane-server"`, `class="risk-scale"`,
			`class="summary"`, `class="mark `, `class="end`, `class="longest-idle"`} {
			if !strings.Contains(sec, want) {
				t.Errorf("%s: no %s", s[1], want)
			}
		}
		m := regexp.MustCompile(`data-cause="([a-z-]+)"`).FindStringSubmatch(sec)
		if m == nil {
			t.Errorf("%s: no cause", s[1])
			continue
		}
		causes[m[1]]++
	}
	for _, c := range captures {
		causes[c.cause]--
	}
	for c, n := range causes {
		if n != 0 {
			t.Errorf("cause %s: %+d sections against the captures' causes", c, n)
		}
	}
	for _, want := range []string{`class="mark probe unanswered"`, `class="mark retrans"`, `class="mark tcpka unanswered"`,
		`class="mark reply"`, `class="idle"`, `class="threshold bracket"`, `class="mark fin"`, `class="mark rst"`} {
		if !strings.Contains(dom, want) {
			t.Errorf("no %s anywhere in the report", want)
		}
	}
	shot := filepath.Join(dir, "report.png")
	if p := os.Getenv("SSHALIVE_SCREENSHOT"); p != "" {
		shot = p
	}
	chromium(t, "--window-size=1300,1800", "--screenshot="+shot, url)
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 10000 {
		t.Errorf("screenshot %s: %v (%s)", shot, err, fmt.Sprint(fi))
	}
}
