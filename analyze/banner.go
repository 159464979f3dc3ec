package analyze

import (
	"strconv"
	"strings"
)

// Banner is a parsed SSH identification string ("SSH-2.0-OpenSSH_9.2p1 Debian-2").
type Banner struct {
	Proto    string // "2.0", "1.99", "1.5"
	Software string // "OpenSSH_9.2p1"
	Comment  string
}

func parseBanner(line string) (Banner, bool) {
	rest, ok := strings.CutPrefix(line, "SSH-")
	if !ok {
		return Banner{}, false
	}
	proto, sw, ok := strings.Cut(rest, "-")
	if !ok {
		return Banner{}, false
	}
	sw, comment, _ := strings.Cut(sw, " ")
	return Banner{Proto: proto, Software: sw, Comment: comment}, true
}

// OpenSSHVersion returns major and minor of an OpenSSH banner's software
// version ("OpenSSH_9.2p1" → 9, 2); ok is false for other software.
func (b Banner) OpenSSHVersion() (major, minor int, ok bool) {
	v, found := strings.CutPrefix(b.Software, "OpenSSH_")
	if !found {
		return 0, 0, false
	}
	maj, rest, found := strings.Cut(v, ".")
	if !found {
		return 0, 0, false
	}
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	a, err1 := strconv.Atoi(maj)
	b2, err2 := strconv.Atoi(rest[:end])
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return a, b2, true
}

func (b Banner) String() string {
	if b.Proto == "" {
		return ""
	}
	s := "SSH-" + b.Proto + "-" + b.Software
	if b.Comment != "" {
		s += " " + b.Comment
	}
	return s
}

// sshd92 reports whether the banner is OpenSSH 9.2–9.4, whose sshd probes
// at twice ClientAliveInterval (a whole-second comparison fixed in 9.5).
func (b Banner) sshd92() bool {
	major, minor, ok := b.OpenSSHVersion()
	return ok && major == 9 && minor >= 2 && minor <= 4
}

// Implementation names the SSH software at one end, as its banner says.
type Implementation struct {
	Name    string // one of the Impl constants, or the banner's software name
	Version string // "" when the banner gives none
}

// Implementation names (the values of Implementation.Name this package
// knows the keepalive behaviour of).
const (
	ImplOpenSSH  = "OpenSSH"
	ImplPuTTY    = "PuTTY"
	ImplDropbear = "Dropbear"
	ImplParamiko = "paramiko"
	ImplAsyncSSH = "AsyncSSH"
	ImplGo       = "Go"
	ImplLibssh   = "libssh"
	ImplLibssh2  = "libssh2"
)

// Implementation tells which software a banner names. The banner's
// software field is "name_version" by convention (RFC 4253 §4.2); the
// known names are matched case-insensitively.
func (b Banner) Implementation() Implementation {
	sw := b.Software
	if sw == "" {
		return Implementation{}
	}
	name, ver, _ := strings.Cut(sw, "_")
	switch strings.ToLower(name) {
	case "openssh":
		return Implementation{ImplOpenSSH, ver}
	case "putty":
		// "PuTTY_Release_0.78", "PuTTY_Local:..." (development builds)
		return Implementation{ImplPuTTY, strings.TrimPrefix(ver, "Release_")}
	case "dropbear":
		return Implementation{ImplDropbear, ver}
	case "paramiko":
		return Implementation{ImplParamiko, ver}
	case "asyncssh":
		return Implementation{ImplAsyncSSH, ver}
	case "go":
		return Implementation{ImplGo, ver}
	case "libssh":
		return Implementation{ImplLibssh, ver}
	case "libssh2":
		return Implementation{ImplLibssh2, ver}
	}
	return Implementation{Name: name, Version: ver}
}
