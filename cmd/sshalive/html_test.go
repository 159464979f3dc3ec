package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
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

// TestHTMLScalesInChromium: the report of 300 connections over 30 minutes
// (lab/gen -conns 300 -duration 30m -seed 3, piped in) is under 3 MiB with
// a bounded number of SVG elements per connection; in headless Chromium it
// loads without a console message, with the summary and the index before
// the first connection and above the fold of a 1400×900 window, and every
// connection in the index once, linked to its section. Write time, size,
// element count and load time are logged; the screenshot is kept at
// $SSHALIVE_SCREENSHOT300 when set.
func TestHTMLScalesInChromium(t *testing.T) {
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	html := genReport(t, page, "-conns", "300", "-duration", "30m", "-seed", "3")
	elements := regexp.MustCompile(`<(path|rect|circle|polygon|line|text|g|use|title|svg)[ >/]`)
	most := 0
	secs := regexp.MustCompile(`(?s)<section class="conn".*?</section>`).FindAllString(html, -1)
	for _, s := range secs {
		most = max(most, len(elements.FindAllString(s, -1)))
	}
	t.Logf("%d bytes, %d SVG elements, at most %d in a connection", len(html), len(elements.FindAllString(html, -1)), most)
	if len(html) >= 3<<20 {
		t.Errorf("the report is %d bytes, not under 3 MiB", len(html))
	}
	if len(secs) != 300 || most > 400 {
		t.Errorf("%d sections, at most %d SVG elements in one", len(secs), most)
	}

	url := "file://" + page
	loadStart := time.Now()
	dom, stderr := chromium(t, "--window-size=1400,900", "--dump-dom", url)
	t.Logf("chromium --dump-dom: %v", time.Since(loadStart).Round(time.Millisecond))
	for _, line := range strings.Split(stderr, "\n") {
		if strings.Contains(line, ":CONSOLE") || strings.Contains(line, "Uncaught") {
			t.Errorf("console: %s", line)
		}
	}
	checkIndex(t, dom, 300)
	summaryTop, indexTop := layout(t, dir, html)
	if indexTop > 700 || summaryTop > indexTop {
		t.Errorf("summary %d px, index %d px down: not above the fold of a 900 px window", summaryTop, indexTop)
	}
	shot := filepath.Join(dir, "report300.png")
	if p := os.Getenv("SSHALIVE_SCREENSHOT300"); p != "" {
		shot = p
	}
	chromium(t, "--window-size=1400,900", "--screenshot="+shot, url)
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 10000 {
		t.Errorf("screenshot %s: %v (%s)", shot, err, fmt.Sprint(fi))
	}
}

// genReport pipes lab/gen's capture (made with genArgs) into sshalive
// --html page and returns the page.
func genReport(t *testing.T, page string, genArgs ...string) string {
	t.Helper()
	gen := filepath.Join(t.TempDir(), "gen")
	if out, err := exec.Command("go", "build", "-o", gen, "../../lab/gen").CombinedOutput(); err != nil {
		t.Fatalf("go build lab/gen: %v\n%s", err, out)
	}
	cmd := exec.Command(gen, append([]string{"-out", "-"}, genArgs...)...)
	capture, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var out, errb strings.Builder
	code := run(context.Background(), []string{"-r", "-", "--html", page}, capture, &out, &errb)
	t.Logf("analysis and HTML report in %v", time.Since(start).Round(time.Millisecond))
	if err := cmd.Wait(); err != nil || code != exitOK {
		t.Fatalf("gen: %v; sshalive exit %d: %s", err, code, errb.String())
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkIndex: the summary and the index come before the first connection
// in the DOM, and the index lists each of n connections once, each with its
// section.
func checkIndex(t *testing.T, dom string, n int) {
	t.Helper()
	summary, index := strings.Index(dom, `id="summary"`), strings.Index(dom, `id="index"`)
	first := strings.Index(dom, `<section class="conn"`)
	if summary < 0 || index < summary || first < index {
		t.Fatalf("summary at %d, index at %d, first connection at %d in the DOM", summary, index, first)
	}
	links := map[string]int{}
	for _, m := range regexp.MustCompile(`<td class="num"><a href="#(conn-\d+)">`).FindAllStringSubmatch(dom[index:first], -1) {
		links[m[1]]++
	}
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("conn-%d", i)
		if links[id] != 1 || !strings.Contains(dom, `<section class="conn" id="`+id+`"`) {
			t.Errorf("%s: %d index rows, section: %v", id, links[id], strings.Contains(dom, `id="`+id+`"`))
		}
	}
}

// layout loads a copy of the page with a probe script (the report has
// none) in a 1400×900 window: it logs the load time and returns how far
// down the summary and the index begin.
func layout(t *testing.T, dir, html string) (summaryTop, indexTop int) {
	t.Helper()
	probe := `<script>addEventListener("load", () => setTimeout(() => {
const n = performance.getEntriesByType("navigation")[0], b = document.body;
b.dataset.load = Math.round(n.loadEventEnd);
b.dataset.summaryTop = Math.round(document.getElementById("summary").getBoundingClientRect().top);
b.dataset.indexTop = Math.round(document.getElementById("index").getBoundingClientRect().top);
}, 0));</script>`
	timed := filepath.Join(dir, "timed.html")
	if err := os.WriteFile(timed, []byte(strings.Replace(html, "</body>", probe+"</body>", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	dom, _ := chromium(t, "--window-size=1400,900", "--virtual-time-budget=10000", "--dump-dom", "file://"+timed)
	m := regexp.MustCompile(`<body data-load="(\d+)" data-summary-top="(\d+)" data-index-top="(\d+)">`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("the probe script did not report: %.300s", dom[strings.Index(dom, "<body"):])
	}
	t.Logf("load event after %s ms; summary at %s px, index at %s px", m[1], m[2], m[3])
	summaryTop, _ = strconv.Atoi(m[2])
	indexTop, _ = strconv.Atoi(m[3])
	return summaryTop, indexTop
}
