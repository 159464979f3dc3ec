// Package sshlab holds what the lab's x/crypto/ssh programs (goclient,
// goserver) share: the module version they report and the logged
// keepalive request whose log lines the truth is matched against.
package sshlab

import (
	"log"
	"runtime/debug"

	"golang.org/x/crypto/ssh"
)

// CryptoVersion is the golang.org/x/crypto module version this binary was
// built with (the Go banner "SSH-2.0-Go" carries none).
func CryptoVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == "golang.org/x/crypto" {
				return m.Version
			}
		}
	}
	return "unknown"
}

// Keepalive sends keepalive n, a global request name with want_reply, and
// logs it and its reply.
func Keepalive(conn ssh.Conn, name string, n int) error {
	log.Printf("keepalive %d: SendRequest(%q, true, nil)", n, name)
	ok, _, err := conn.SendRequest(name, true, nil)
	log.Printf("keepalive %d: reply ok=%v err=%v", n, ok, err)
	return err
}
