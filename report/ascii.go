package report

import (
	"io"
	"strings"
	"unicode/utf8"
)

// asciiFor spells the report's non-ASCII characters in ASCII, one for one
// where the table's alignment depends on it (box drawing, dashes, the
// timeline's dots and bars).
var asciiFor = strings.NewReplacer(
	"┌", "+", "┐", "+", "└", "+", "┘", "+", "├", "+", "┤", "+", "┬", "+", "┴", "+", "┼", "+",
	"─", "-", "│", "|", "▕", "|", "▏", "|",
	"–", "-", "—", "-", "·", ".", "→", "->", "←", "<-", "×", "x",
	"…", "...", "≥", ">=", "≤", "<=", "≈", "~", "µ", "u", "§", "S",
)

// ASCII returns a writer that writes what the text report writes in ASCII
// only, for a terminal whose locale is not UTF-8: box drawing, dashes,
// arrows and "≥" are spelled in ASCII, anything else not ASCII becomes "?".
// Writes may split a character: its bytes are held until it is whole.
func ASCII(w io.Writer) io.Writer { return &asciiWriter{w: w} }

type asciiWriter struct {
	w    io.Writer
	held []byte // the start of a character split across writes
}

func (a *asciiWriter) Write(p []byte) (int, error) {
	buf := append(a.held, p...)
	// hold back an incomplete character at the end
	cut := len(buf)
	for i := len(buf) - 1; i >= 0 && i >= len(buf)-utf8.UTFMax; i-- {
		if utf8.RuneStart(buf[i]) {
			if !utf8.FullRune(buf[i:]) {
				cut = i
			}
			break
		}
	}
	a.held = append([]byte(nil), buf[cut:]...)
	s := asciiFor.Replace(string(buf[:cut]))
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r >= utf8.RuneSelf {
			r = '?'
		}
		b = append(b, byte(r))
	}
	if _, err := a.w.Write(b); err != nil {
		return 0, err
	}
	return len(p), nil
}

// UTF8Locale reports whether the locale the environment names (LC_ALL,
// else LC_CTYPE, else LANG: the first one set) uses UTF-8. With none set
// it reports true: the output stays as it always was, and only a locale
// that says otherwise (C, POSIX, ISO-8859-1) asks for ASCII.
func UTF8Locale(getenv func(string) string) bool {
	for _, v := range []string{"LC_ALL", "LC_CTYPE", "LANG"} {
		if l := getenv(v); l != "" {
			l = strings.ToLower(l)
			return strings.Contains(l, "utf-8") || strings.Contains(l, "utf8")
		}
	}
	return true
}
