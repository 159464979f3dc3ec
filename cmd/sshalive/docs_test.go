package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// generated runs sshalive --generate kind and returns its stdout.
func generated(t *testing.T, kind string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"--generate", kind}, nil, &stdout, &stderr); code != exitOK || stderr.Len() > 0 {
		t.Fatalf("--generate %s: exit %d, stderr %q", kind, code, stderr.String())
	}
	return stdout.String()
}

// TestGenerate: each kind names every visible flag (and -h/--help) the way
// its format spells it, and never the hidden --generate.
func TestGenerate(t *testing.T) {
	roff := func(s string) string { return strings.ReplaceAll(s, "-", `\-`) }
	spelled := map[string]func(f *pflag.Flag) []string{
		"man": func(f *pflag.Flag) []string {
			long := `\fB\-\-` + roff(f.Name) + `\fR`
			if f.Shorthand != "" {
				return []string{"\n" + `\fB\-` + f.Shorthand + `\fR, ` + long}
			}
			return []string{"\n" + long}
		},
		"bash": func(f *pflag.Flag) []string { return flagSpellings(f) },
		"zsh": func(f *pflag.Flag) []string {
			v := ""
			if takesValue(f) {
				v = "="
			}
			if f.Shorthand != "" {
				s := "{-" + f.Shorthand
				if takesValue(f) {
					s += "+"
				}
				return []string{s + ",--" + f.Name + v + "}"}
			}
			return []string{"--" + f.Name + v + "["}
		},
		"fish": func(f *pflag.Flag) []string {
			if f.Shorthand != "" {
				return []string{"complete -c sshalive -s " + f.Shorthand + " -l " + f.Name + " "}
			}
			return []string{"complete -c sshalive -l " + f.Name + " "}
		},
	}
	flags := visibleFlags(docFlags())
	if len(flags) < 20 {
		t.Fatalf("%d visible flags: the flag set lost some", len(flags))
	}
	for kind, spell := range spelled {
		t.Run(kind, func(t *testing.T) {
			out := generated(t, kind)
			if kind == "bash" {
				// the words offered after "-": one field each
				m := regexp.MustCompile(`compgen -W '([^']*)'`).FindStringSubmatch(out)
				if m == nil {
					t.Fatalf("no flag word list in\n%s", out)
				}
				out = " " + m[1] + " "
			}
			for _, f := range flags {
				for _, s := range spell(f) {
					if kind == "bash" {
						s = " " + s + " "
					}
					if !strings.Contains(out, s) {
						t.Errorf("--%s: %q not in the %s output", f.Name, s, kind)
					}
				}
			}
			if strings.Contains(regexp.MustCompile(`(?m)^.*[Gg]enerated by sshalive.*$`).ReplaceAllString(out, ""), generateFlag) {
				t.Errorf("the hidden --%s is in the %s output", generateFlag, kind)
			}
		})
	}
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"--generate", "pdf"}, nil, &bytes.Buffer{}, &stderr); code != exitUsage || !strings.Contains(stderr.String(), "man, bash, zsh, fish") {
		t.Errorf("--generate pdf: exit %d, stderr %q; want %d naming the kinds", code, stderr.String(), exitUsage)
	}
}

// TestHelpHidesGenerate: --help, on stdout (sshalive --help | less), lists
// every flag but the hidden one, and writes nothing to stderr.
func TestHelpHidesGenerate(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, nil, &out, &errs); code != exitOK || errs.Len() != 0 {
		t.Fatalf("--help: exit %d, stderr %q", code, errs.String())
	}
	for _, f := range visibleFlags(docFlags()) {
		if f.Name != "help" && !strings.Contains(out.String(), "--"+f.Name+" ") {
			t.Errorf("--help does not list --%s", f.Name)
		}
	}
	if strings.Contains(out.String(), generateFlag) {
		t.Errorf("--help lists the hidden --%s:\n%s", generateFlag, out.String())
	}
}

// TestManPageFormat: the page is ASCII roff with the usual sections, and
// groff (-ww: all warnings) and mandoc -Tlint, where installed, have
// nothing to say about it.
func TestManPageFormat(t *testing.T) {
	page := generated(t, "man")
	for i, r := range page {
		if r > 0x7e || (r < 0x20 && r != '\n') {
			t.Fatalf("byte %d: %q is not printable ASCII (roffText escapes it)", i, r)
		}
	}
	for _, sec := range []string{"NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "EXAMPLES", "FILES", "SEE ALSO"} {
		if !strings.Contains(page, "\n.SH "+sec+"\n") {
			t.Errorf("no %s section", sec)
		}
	}
	if !strings.Contains(page, ".BR tcpdump (8)") {
		t.Error("SEE ALSO does not name tcpdump(8)")
	}
	checkers := [][]string{
		{"groff", "-man", "-Tutf8", "-ww", "-z"},
		{"mandoc", "-Tlint", "-Wwarning"},
	}
	ran := 0
	for _, c := range checkers {
		if _, err := exec.LookPath(c[0]); err != nil {
			continue
		}
		ran++
		cmd := exec.Command(c[0], c[1:]...)
		cmd.Stdin = strings.NewReader(page)
		out, err := cmd.CombinedOutput()
		if err != nil || len(out) > 0 {
			t.Errorf("%s: %v\n%s", strings.Join(c, " "), err, out)
		}
	}
	if ran == 0 {
		t.Skip("neither groff nor mandoc is installed")
	}
}

// TestCompletionSyntax: each shell, where installed, parses its script.
func TestCompletionSyntax(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		t.Run(shell, func(t *testing.T) {
			if _, err := exec.LookPath(shell); err != nil {
				t.Skipf("%s is not installed", shell)
			}
			f := writeTemp(t, "sshalive."+shell, generated(t, shell))
			if out, err := exec.Command(shell, "-n", f).CombinedOutput(); err != nil || len(out) > 0 {
				t.Errorf("%s -n: %v\n%s", shell, err, out)
			}
		})
	}
}

// TestCompletionValues: what bash and fish (where installed) offer after
// -i, -Z, -r and a partial long flag.
func TestCompletionValues(t *testing.T) {
	if _, err := os.Stat("/sys/class/net/lo"); err != nil {
		t.Skip("no /sys/class/net/lo to complete")
	}
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/trace.pcap", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		line string // the command line up to the cursor
		want []string
	}{
		{"sshalive -i ", []string{"any", "lo"}},
		{"sshalive --interface=l", []string{"lo"}},
		{"sshalive -Z ro", []string{"root"}},
		{"sshalive -r tr", []string{"trace.pcap"}},
		{"sshalive --html tr", []string{"trace.pcap"}},
		{"sshalive --rel", []string{"--relinquish-privileges"}},
	}
	t.Run("bash", func(t *testing.T) {
		if _, err := exec.LookPath("bash"); err != nil {
			t.Skip("bash is not installed")
		}
		script := writeTemp(t, "sshalive.bash", generated(t, "bash"))
		for _, tt := range tests {
			// bash splits words at '=' too (COMP_WORDBREAKS)
			words := strings.Fields(strings.ReplaceAll(tt.line, "=", " = "))
			if strings.HasSuffix(tt.line, " ") {
				words = append(words, "")
			}
			quoted := make([]string, len(words))
			for i, w := range words {
				quoted[i] = strconv.Quote(w)
			}
			prog := "source " + script + "; COMP_WORDS=(" + strings.Join(quoted, " ") + "); COMP_CWORD=" +
				strconv.Itoa(len(words)-1) + `; _sshalive; printf '%s\n' "${COMPREPLY[@]}"`
			checkOffered(t, "bash", dir, tt.line, tt.want, "bash", "-c", prog)
		}
	})
	t.Run("fish", func(t *testing.T) {
		if _, err := exec.LookPath("fish"); err != nil {
			t.Skip("fish is not installed")
		}
		script := writeTemp(t, "sshalive.fish", generated(t, "fish"))
		for _, tt := range tests {
			checkOffered(t, "fish", dir, tt.line, tt.want, "fish", "--no-config", "-c", "source "+script+"; complete -C "+strconv.Quote(tt.line))
		}
	})
}

func checkOffered(t *testing.T, shell, dir, line string, want []string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Errorf("%s %q: %v", shell, line, err)
		return
	}
	offered := map[string]bool{}
	for _, l := range strings.Split(string(out), "\n") {
		word := strings.SplitN(l, "\t", 2)[0]
		if _, value, ok := strings.Cut(word, "="); ok && strings.HasPrefix(word, "--") {
			word = value // fish offers --flag=value
		}
		offered[word] = true
	}
	for _, w := range want {
		if !offered[w] {
			t.Errorf("%s %q: %q not offered; got %q", shell, line, w, out)
		}
	}
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	f := t.TempDir() + "/" + name
	if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestExitCodesMatchREADME: README.md's exit code table is exitCodes(),
// which the man page's EXIT STATUS is made from. When the README's table
// changes, change exitCodes() with it.
func TestExitCodesMatchREADME(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n### Exit codes\n")
	if !ok {
		t.Fatal(`README.md has no "### Exit codes" section`)
	}
	row := regexp.MustCompile(`^\| (\d+) \| (.*) \|$`)
	var got []exitCode
	for _, line := range strings.Split(section, "\n") {
		if strings.HasPrefix(line, "#") {
			break
		}
		if m := row.FindStringSubmatch(line); m != nil {
			code, _ := strconv.Atoi(m[1])
			got = append(got, exitCode{code, m[2]})
		}
	}
	want := exitCodes()
	if len(got) != len(want) {
		t.Fatalf("README lists %d exit codes, exitCodes() %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("exit code row %d:\nREADME:      %+v\nexitCodes(): %+v", i, got[i], want[i])
		}
	}
}
