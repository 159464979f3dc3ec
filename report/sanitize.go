package report

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// clean makes a string that came off the wire (a banner, an algorithm
// name) safe to print: control characters (C0, DEL, C1), bidirectional
// overrides and isolates, other invisible format characters and invalid
// UTF-8 are written as visible escapes (\x1b, \u202e), so no terminal
// escape sequence, title change or reordering reaches the reader. A
// backslash is doubled, so an escape cannot be forged.
func clean(s string) string {
	if isClean(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case unsafeRune(r) && r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += n
	}
	return b.String()
}

func isClean(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || r == '\\' || unsafeRune(r) {
			return false
		}
	}
	return true
}

// unsafeRune reports whether r may change what a terminal shows: not
// printable, or a format character (bidi controls are of that category).
func unsafeRune(r rune) bool {
	return !unicode.IsPrint(r) && r != ' ' || unicode.Is(unicode.Cf, r)
}
