// Command goclient is a lab SSH client built on golang.org/x/crypto/ssh, which
// has no keepalive of its own: like the programs that use it, it calls
// conn.SendRequest(name, true, nil) on a time.Ticker while a remote command
// runs, and logs each request and its reply to stderr. lab/scenarios.d/impl2.sh
// runs it against a throwaway OpenSSH sshd whose DEBUG3 log is the truth.
//
//	goclient -addr 198.18.0.2:22 -key id_ed25519 -hostkey host_ed25519.pub \
//	    -interval 2s -name keepalive@openssh.com -cmd 'sleep 11'
package main

import (
	"bytes"
	"flag"
	"log"
	"os"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/sshalive/sshalive/lab/impl/sshlab"
)

func main() {
	addr := flag.String("addr", "198.18.0.2:22", "server address")
	user := flag.String("user", "root", "user name")
	keyFile := flag.String("key", "", "private key (OpenSSH format)")
	hostKeyFile := flag.String("hostkey", "", "the server's public host key (authorized_keys format)")
	name := flag.String("name", "keepalive@openssh.com", "global request name sent on each tick")
	interval := flag.Duration("interval", 2*time.Second, "ticker period")
	cmd := flag.String("cmd", "sleep 11", "remote command")
	limit := flag.Duration("limit", 40*time.Second, "give up after this long")
	flag.Parse()
	log.SetFlags(log.Lmicroseconds)
	log.Printf("goclient: golang.org/x/crypto %s, %s", sshlab.CryptoVersion(), *name)

	signer, err := loadKey(*keyFile)
	if err != nil {
		log.Fatal(err)
	}
	hk, err := os.ReadFile(*hostKeyFile)
	if err != nil {
		log.Fatal(err)
	}
	hostKey, _, _, _, err := ssh.ParseAuthorizedKey(hk)
	if err != nil {
		log.Fatal(err)
	}
	conn, err := ssh.Dial("tcp", *addr, &ssh.ClientConfig{
		User:            *user,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.FixedHostKey(hostKey),
		Timeout:         5 * time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	log.Printf("connected: server %s", conn.ServerVersion())

	sess, err := conn.NewSession()
	if err != nil {
		log.Fatal(err)
	}
	var out bytes.Buffer
	sess.Stdout = &out
	done := make(chan error, 1)
	go func() { done <- sess.Run(*cmd) }()
	log.Printf("exec %q", *cmd)

	tick := time.NewTicker(*interval)
	defer tick.Stop()
	deadline := time.After(*limit)
	for n := 1; ; n++ {
		select {
		case err := <-done:
			log.Printf("remote command ended: %v (%d bytes of output)", err, out.Len())
			return
		case <-deadline:
			log.Fatalf("still running after %s", *limit)
		case <-tick.C:
			go sshlab.Keepalive(conn, *name, n)
		}
	}
}

// keepalive sends one global request and logs its reply (OpenSSH answers an
// unknown request with SSH_MSG_REQUEST_FAILURE, i.e. ok=false, err=nil).
func loadKey(path string) (ssh.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ssh.ParsePrivateKey(b)
}
