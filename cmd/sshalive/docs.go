package main

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/spf13/pflag"
)

// exitCode is one row of the exit status table: README.md's "Exit codes"
// (TestExitCodesMatchREADME keeps the two equal) and the man page's EXIT
// STATUS. Meanings are Markdown: `code` is set in bold in the man page.
type exitCode struct {
	Code    int
	Meaning string
}

func exitCodes() []exitCode {
	return []exitCode{
		{exitOK, "every input was read and holds SSH traffic; live: the capture ran and stopped as asked (Ctrl-C, SIGTERM, SIGHUP, `--duration`, `-c`)"},
		{exitError, "nothing could be analysed: no input readable (missing, empty, not a capture, corrupt header, unsupported link type), no SSH traffic on the chosen ports; live: the interface is missing, capture is not permitted, or reading failed"},
		{exitUsage, "usage error (unknown flag, no `-r`, port out of range)"},
		{exitPartial, "partial input: a file was truncated mid-packet or unreadable part way, or had packets skipped or timestamps replaced (over 256 KiB, interfaces beyond 1024, another link type, years outside 1970–9999), or one of several files failed, or the read was interrupted (Ctrl-C, SIGTERM, SIGHUP: `truncated` and an `errors` entry say what was not read); everything read before is reported"},
		{exitOutput, "an output could not be written: stdout closed (`\\| head`) or full, the `-w` file or the `--html` report on a full disk; every other output is written and flushed, and stderr names the one that failed (live: a closed stdout stops the capture; a full `-w` only stops the saving)"},
	}
}

// generate writes the man page or a completion script, generated from the
// flag set, to w (sshalive --generate KIND; make release runs it).
func generate(w io.Writer, kind string) error {
	fs := docFlags()
	switch kind {
	case "man":
		return manPage(w, fs, versionString())
	case "bash":
		return bashCompletion(w, fs)
	case "zsh":
		return zshCompletion(w, fs)
	case "fish":
		return fishCompletion(w, fs)
	}
	return fmt.Errorf("--%s %q: one of %s", generateFlag, kind, generateChoices)
}

// docFlags is the flag set as documented: every flag newFlagSet defines,
// and -h/--help, which pflag answers without a definition.
func docFlags() *pflag.FlagSet {
	var cfg Config
	fs := newFlagSet(&cfg, io.Discard)
	fs.BoolP("help", "h", false, "print this help and exit")
	return fs
}

// visibleFlags: the documented flags in the order newFlagSet defines them.
func visibleFlags(fs *pflag.FlagSet) []*pflag.Flag {
	var out []*pflag.Flag
	fs.VisitAll(func(f *pflag.Flag) {
		if !f.Hidden {
			out = append(out, f)
		}
	})
	return out
}

// takesValue: the flag needs an argument (every non-boolean flag here).
func takesValue(f *pflag.Flag) bool { return f.NoOptDefVal == "" }

// repeatable: the flag may be given more than once to add values.
func repeatable(f *pflag.Flag) bool {
	t := f.Value.Type()
	return strings.HasSuffix(t, "Array") || strings.HasSuffix(t, "Slice")
}

// completion is what a flag's value completes to (completeFile, ...), or "".
func completion(f *pflag.Flag) string {
	if v := f.Annotations[annotComplete]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// shownDefault is the default the man page states, "" when there is none
// worth saying (zero values), as pflag's --help does.
func shownDefault(f *pflag.Flag) string {
	switch f.DefValue {
	case "", "0", "false", "[]", "0s":
		return ""
	}
	return f.DefValue
}

const manDescription = `sshalive reads a packet capture of SSH traffic, or captures live on a
jump host, and tells for every connection which side sends keepalives, of which
kind (SSH-layer messages of OpenSSH, PuTTY, Dropbear, paramiko, AsyncSSH, Go's
x/crypto/ssh, libssh and libssh2, or TCP keepalives), how often, whether they
were answered, what settings produced them (` + "`ServerAliveInterval`, `ClientAliveInterval`, `TCPKeepAlive`" + `),
and how and why the session ended.

Results go to stdout: a table and sentences per connection, JSON Lines with ` + "`--json`" + `,
a self-contained page with ` + "`--html`" + `. Diagnostics go to stderr, one line each,
prefixed ` + "`sshalive:`" + `.

An expression after the flags (tcpdump syntax, see pcap-filter(7)) replaces the
default filter ` + "`tcp port 22`" + `; flags may follow it. sshalive compiles the
expressions people use with it (host, net, port, portrange, src/dst, tcp, ip,
ip6, vlan, and/or/not) itself; a build with libpcap (make build-libpcap) hands
the rest to libpcap.

Live capture reads a Linux AF_PACKET socket, with the filter in the kernel;
once it and the outputs are open, every capability is dropped.

Live capture needs root or the CAP_NET_RAW capability: ` + "`setcap cap_net_raw=ep /usr/bin/sshalive`" + `
grants it to the binary once. Ctrl-C, SIGTERM or SIGHUP stops a live capture
and prints the report; SIGUSR1 prints an interim one.`

// manExamples: command, what it does.
func manExamples() [][2]string {
	return [][2]string{
		{"sshalive -r trace.pcap", "a table and a sentence per connection"},
		{"sshalive -r trace.pcapng.gz -r more.pcap", "several files, pcap or pcapng, gzip or not, analysed as one capture"},
		{"tcpdump -w - -U port 22 | sshalive -r -", "read from stdin"},
		{"sshalive -r trace.pcap -p 2222 --json", "SSH on another port, JSON Lines for scripts"},
		{"sshalive -r trace.pcap host 10.0.0.5 and port 22 -c 1000", "a tcpdump expression replaces the default filter"},
		{"sudo sshalive -i any", "capture on all interfaces; Ctrl-C prints the report"},
		{"sudo sshalive -i eth0 --duration 30m --json > sessions.jsonl", "stop after 30 minutes"},
		{"sudo sshalive -i any --metrics-listen 127.0.0.1:9273", "serve Prometheus metrics"},
	}
}

// manPage writes sshalive(1) in roff (man macros), ASCII only.
func manPage(w io.Writer, fs *pflag.FlagSet, version string) error {
	var b strings.Builder
	b.WriteString(".\\\" Generated by sshalive --generate man; do not edit.\n")
	fmt.Fprintf(&b, ".TH SSHALIVE 1 \"\" \"sshalive %s\" \"User Commands\"\n", roffText(version))
	b.WriteString(".SH NAME\nsshalive \\- who keeps an SSH session alive, how often, and why it died\n")
	b.WriteString(".SH SYNOPSIS\n")
	for _, line := range strings.Split(strings.TrimSpace(strings.SplitN(usageText, "\n\n", 2)[0]), "\n") {
		line = strings.TrimPrefix(strings.TrimSpace(line), "usage: ")
		fmt.Fprintf(&b, ".br\n%s\n", synopsisLine(line))
	}
	b.WriteString(".SH DESCRIPTION\n")
	for i, para := range strings.Split(manDescription, "\n\n") {
		if i > 0 {
			b.WriteString(".PP\n")
		}
		b.WriteString(roffMarkdown(para) + "\n")
	}
	b.WriteString(".SH OPTIONS\n")
	for _, f := range visibleFlags(fs) {
		b.WriteString(".TP\n" + manFlagHead(f) + "\n")
		_, usage := pflag.UnquoteUsage(f)
		if d := shownDefault(f); d != "" {
			usage += " (default " + d + ")"
		}
		b.WriteString(roffText(usage) + "\n")
	}
	b.WriteString(".SH EXIT STATUS\n")
	for _, e := range exitCodes() {
		fmt.Fprintf(&b, ".TP\n.B %d\n%s\n", e.Code, roffMarkdown(e.Meaning))
	}
	b.WriteString(".SH EXAMPLES\n")
	for _, ex := range manExamples() {
		fmt.Fprintf(&b, ".TP\n.B %s\n%s\n", roffText(ex[0]), roffText(ex[1]))
	}
	b.WriteString(`.SH FILES
.TP
.I /lib/systemd/system/sshalive.service
the systemd unit of the Debian package (not enabled on install):
.B systemctl enable \-\-now sshalive
.TP
.I /etc/default/sshalive
optional; SSHALIVE_ARGS=... there replaces the service's arguments
.SH SEE ALSO
.BR tcpdump (8),
.BR pcap\-filter (7),
.BR capabilities (7),
.BR setcap (8),
.BR systemd.exec (5)
`)
	_, err := io.WriteString(w, b.String())
	return err
}

// manFlagHead: "\fB\-r\fR, \fB\-\-read\fR \fIFILE\fR".
func manFlagHead(f *pflag.Flag) string {
	head := `\fB\-\-` + roffText(f.Name) + `\fR`
	if f.Shorthand != "" {
		head = `\fB\-` + f.Shorthand + `\fR, ` + head
	}
	if name, _ := pflag.UnquoteUsage(f); name != "" && takesValue(f) {
		head += ` \fI` + roffText(name) + `\fR`
	}
	return head
}

// synopsisLine sets the words of a usage line: options bold, their
// arguments and the rest of the placeholders italic.
func synopsisLine(line string) string {
	words := strings.Fields(line)
	for i, w := range words {
		switch {
		case i == 0 || strings.HasPrefix(w, "-") || strings.HasPrefix(w, "[-"):
			words[i] = `\fB` + roffText(w) + `\fR`
		default:
			words[i] = `\fI` + roffText(w) + `\fR`
		}
	}
	return strings.Join(words, " ")
}

// roffMarkdown is roffText with Markdown's `code` set in bold.
func roffMarkdown(s string) string {
	parts := strings.Split(s, "`")
	for i := range parts {
		parts[i] = roffText(parts[i])
		if i%2 == 1 {
			parts[i] = `\fB` + parts[i] + `\fR`
		}
	}
	return strings.Join(parts, "")
}

// roffText escapes text for roff: backslashes, minus signs (so that options
// copied from the page work), a leading control character on any line, and
// anything outside ASCII as a \[uXXXX] glyph.
func roffText(s string) string {
	var b strings.Builder
	lineStart := true
	for _, r := range s {
		if lineStart && (r == '.' || r == '\'') {
			b.WriteString(`\&`)
		}
		lineStart = r == '\n'
		switch {
		case r == '\\':
			b.WriteString(`\e`)
		case r == '-':
			b.WriteString(`\-`)
		case r >= utf8.RuneSelf:
			fmt.Fprintf(&b, `\[u%04X]`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
