package analyze

import (
	"testing"
	"time"
)

// TestNotSSH: a connection whose start is captured and whose client speaks
// first in lines that are not an SSH banner (HTTP on an SSH port) is not
// SSH: no SSH keepalives and no advice; an SSH connection and one whose
// start is missing are never ruled out.
func TestNotSSH(t *testing.T) {
	conn := func(syn bool, client, server string) Conn {
		c := newConv()
		if syn {
			c.raw(Client, 0, 999, 0, FlagSYN, 500)
			c.segs[len(c.segs)-1].Flags = FlagSYN
			c.raw(Server, time.Millisecond, 4999, 0, FlagSYN, 500)
			c.send(Client, time.Millisecond, 0, 0)
		}
		c.send(Client, time.Millisecond, len(client), FlagPSH)
		c.segs[len(c.segs)-1].Payload = []byte(client)
		c.send(Server, time.Millisecond, len(server), FlagPSH)
		c.segs[len(c.segs)-1].Payload = []byte(server)
		// probe-sized exchanges every 20 s: keepalives, were it SSH
		for i := 0; i < 5; i++ {
			c.send(Client, 20*time.Second, 52, FlagPSH).send(Server, 25*time.Millisecond, 28, FlagPSH).send(Client, time.Millisecond, 0, 0)
		}
		s := c.run(Config{})
		if len(s.Conns) != 1 {
			t.Fatalf("%d connections", len(s.Conns))
		}
		return s.Conns[0]
	}
	http := conn(true, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n")
	if !http.NotSSH || len(http.SSH) != 0 || len(http.Recommendations) != 0 {
		t.Errorf("HTTP: NotSSH %v, %d SSH keepalives, %d recommendations", http.NotSSH, len(http.SSH), len(http.Recommendations))
	}
	if c := conn(true, "SSH-2.0-OpenSSH_9.2p1\r\n", "SSH-2.0-OpenSSH_9.2p1\r\n"); c.NotSSH {
		t.Error("an SSH connection is ruled out")
	}
	if c := conn(false, "GET / HTTP/1.1\r\n", "HTTP/1.1 200 OK\r\n"); c.NotSSH {
		t.Error("a connection without its start is ruled out")
	}
}
