// Command goserver is a lab SSH server built on golang.org/x/crypto/ssh, which
// has no keepalive of its own: like the servers that use it, it calls
// conn.SendRequest(name, true, nil) on a time.Ticker for as long as the client
// is connected. It serves one connection: public-key auth from an
// authorized_keys file, one session whose exec/shell request is answered by
// staying quiet for -session, then exit-status 0 and close. Every request and
// reply is logged to stderr; lab/scenarios.d/impl2.sh runs it with OpenSSH's
// ssh -vvv as the client, whose log is the truth.
//
//	goserver -listen 198.18.0.2:22 -hostkey host_ed25519 -authorized authorized_keys \
//	    -interval 2s -session 12s
package main

import (
	"bytes"
	"errors"
	"flag"
	"log"
	"net"
	"os"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/sshalive/sshalive/lab/impl/sshlab"
)

func main() {
	listen := flag.String("listen", "198.18.0.2:22", "address to listen on")
	hostKeyFile := flag.String("hostkey", "", "host private key (OpenSSH format)")
	authFile := flag.String("authorized", "", "authorized_keys file")
	name := flag.String("name", "keepalive@openssh.com", "global request name sent on each tick")
	interval := flag.Duration("interval", 2*time.Second, "ticker period")
	session := flag.Duration("session", 12*time.Second, "how long a session's command runs")
	limit := flag.Duration("limit", 60*time.Second, "exit after this long")
	flag.Parse()
	log.SetFlags(log.Lmicroseconds)
	log.Printf("goserver: golang.org/x/crypto %s, %s every %s", sshlab.CryptoVersion(), *name, *interval)
	time.AfterFunc(*limit, func() { log.Fatalf("still running after %s", *limit) })

	b, err := os.ReadFile(*hostKeyFile)
	if err != nil {
		log.Fatal(err)
	}
	hostKey, err := ssh.ParsePrivateKey(b)
	if err != nil {
		log.Fatal(err)
	}
	ak, err := os.ReadFile(*authFile)
	if err != nil {
		log.Fatal(err)
	}
	allowed, _, _, _, err := ssh.ParseAuthorizedKey(ak)
	if err != nil {
		log.Fatal(err)
	}
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			if bytes.Equal(k.Marshal(), allowed.Marshal()) {
				return nil, nil
			}
			return nil, errDenied
		},
	}
	cfg.AddHostKey(hostKey)

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("listening on %s", ln.Addr())
	nc, err := ln.Accept()
	if err != nil {
		log.Fatal(err)
	}
	ln.Close()
	conn, chans, reqs, err := ssh.NewServerConn(nc, cfg)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("connected: client %s", conn.ClientVersion())
	go func() {
		for r := range reqs {
			log.Printf("global request %q want_reply=%v: refused", r.Type, r.WantReply)
			if r.WantReply {
				_ = r.Reply(false, nil)
			}
		}
	}()
	stop := make(chan struct{})
	go keepalives(conn, *name, *interval, stop)
	for nch := range chans {
		if nch.ChannelType() != "session" {
			_ = nch.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, creqs, err := nch.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go serveSession(ch, creqs, *session)
	}
	close(stop)
	log.Printf("connection closed: %v", conn.Wait())
}

var errDenied = errors.New("key not authorized")

// keepalives sends one global request per tick and logs its reply (OpenSSH's
// ssh answers an unknown request with SSH_MSG_REQUEST_FAILURE: ok=false).
func keepalives(conn ssh.Conn, name string, interval time.Duration, stop <-chan struct{}) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for n := 1; n <= 1000; n++ {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		if err := sshlab.Keepalive(conn, name, n); err != nil {
			return
		}
	}
}

// serveSession answers exec/shell by staying quiet for d, then sends
// exit-status 0 and closes the channel; other requests (env, pty-req) are
// refused.
func serveSession(ch ssh.Channel, reqs <-chan *ssh.Request, d time.Duration) {
	for r := range reqs {
		switch r.Type {
		case "exec", "shell":
			log.Printf("session %s %q: running for %s", r.Type, r.Payload, d)
			_ = r.Reply(true, nil)
			time.Sleep(d)
			_, _ = ch.SendRequest("exit-status", false, []byte{0, 0, 0, 0})
			_ = ch.Close()
			log.Printf("session done")
		default:
			log.Printf("session request %q: refused", r.Type)
			if r.WantReply {
				_ = r.Reply(false, nil)
			}
		}
	}
}
