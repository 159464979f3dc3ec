package main

import (
	"strings"
	"testing"
)

func logOf(s string) logFile {
	var l logFile
	for _, ln := range strings.Split(strings.TrimSpace(s), "\n") {
		ts, rest, _ := strings.Cut(strings.TrimSpace(ln), " ")
		t, _ := parseSeconds(ts)
		l = append(l, line{t, rest})
	}
	return l
}

// Lines as sshd 9.2 (LogLevel DEBUG3 -e) logged them on lab captures.
func TestWitnessSSHD(t *testing.T) {
	l := logOf(`
1.000 debug3: receive packet: type 2 [preauth]
1.100 debug3: send packet: type 52 [preauth]
2.000 debug3: receive packet: type 80
2.001 debug1: server_input_global_request: rtype keepalive@lag.net want_reply 0
3.000 debug3: receive packet: type 98
3.001 debug1: server_input_channel_req: channel 0 request keepalive@openssh.com reply 1
3.002 debug1: session_input_channel_req: session 0 req keepalive@openssh.com
3.003 debug3: send packet: type 100
4.000 debug3: receive packet: type 80
4.001 debug1: server_input_global_request: rtype keepalive@openssh.com want_reply 1
4.002 debug3: send packet: type 82
5.000 debug3: receive packet: type 2
5.001 debug3: Received SSH2_MSG_IGNORE
5.002 debug3: receive packet: type 97
6.000 debug3: receive packet: type 2
6.001 debug3: Received SSH2_MSG_IGNORE
6.002 debug3: receive packet: type 80
6.003 debug1: server_input_global_request: rtype keepalive@openssh.com want_reply 1
6.004 debug3: send packet: type 82
7.000 debug3: receive packet: type 98
7.001 debug1: server_input_channel_req: channel 0 request exec reply 1
`)
	ps, comp := witnessProbes(l, "client", true)
	want := []struct {
		kind, name string
		want, ans  bool
		recv       float64
		later      int
	}{
		{"global-request-noreply", "keepalive@lag.net", false, false, 2.000, 0},
		{"channel-request", "keepalive@openssh.com", true, true, 3.000, 0},
		{"global-request", "keepalive@openssh.com", true, true, 4.000, 0},
		{"ignore", "", false, false, 5.000, 1},
		{"global-request", "keepalive@openssh.com", true, true, 6.002, 0},
	}
	if len(ps) != len(want) || comp != 1 {
		t.Fatalf("got %d probes, %d companions: %+v", len(ps), comp, ps)
	}
	for i, w := range want {
		p := ps[i]
		if p.kind != w.kind || p.name != w.name || p.wantReply != w.want || p.answered() != w.ans || p.recvT != w.recv || p.later != w.later || p.sender != "client" || !p.witness {
			t.Errorf("probe %d: got %+v, want %+v", i, p, w)
		}
	}
	if ps, _ := witnessProbes(l, "client", false); len(ps) != 4 {
		t.Errorf("witness_ignore 0: %d probes, want 4", len(ps))
	}
}

// Lines as ssh -vvv logged them against Dropbear.
func TestWitnessSSH(t *testing.T) {
	l := logOf(`
1.000 debug3: receive packet: type 52
2.000 debug3: receive packet: type 98
2.001 debug1: client_input_channel_req: channel 0 rtype keepalive@openssh.com reply 1
2.002 debug3: send packet: type 100
3.000 debug3: receive packet: type 80
3.001 debug1: client_input_global_request: rtype keepalive@openssh.com want_reply 1
3.002 debug3: send packet: type 82
4.000 debug3: receive packet: type 98
4.001 debug1: client_input_channel_req: channel 0 rtype exit-status reply 0
`)
	ps, _ := witnessProbes(l, "server", true)
	if len(ps) != 2 || ps[0].kind != "channel-request" || ps[1].kind != "global-request" || !ps[0].answered() || !ps[1].answered() {
		t.Fatalf("got %+v", ps)
	}
	if ps[0].replySendT != 2.002 || ps[1].replySendT != 3.002 {
		t.Errorf("reply stamps %v %v", ps[0].replySendT, ps[1].replySendT)
	}
}

func TestParseBanner(t *testing.T) {
	for in, want := range map[string][2]string{
		"OpenSSH_9.2p1 Debian-2+deb12u10": {"OpenSSH", "9.2p1"},
		"PuTTY_Release_0.78":              {"PuTTY", "0.78"},
		"dropbear_2022.83":                {"Dropbear", "2022.83"},
		"paramiko_2.12.0":                 {"paramiko", "2.12.0"},
		"AsyncSSH_2.10.1":                 {"AsyncSSH", "2.10.1"},
		"libssh2_1.10.0":                  {"libssh2", "1.10.0"},
		"libssh_0.10.6":                   {"libssh", "0.10.6"},
		"Go":                              {"Go", ""},
	} {
		id := parseBanner(in)
		if id.Name != want[0] || id.Version != want[1] {
			t.Errorf("%q: got %s %s", in, id.Name, id.Version)
		}
	}
}

func TestChooseWitness(t *testing.T) {
	ign := &pkt{t: 1.0000, tcpLen: 48}
	cls := &pkt{t: 1.0002, tcpLen: 48}
	key := &pkt{t: 0.9, tcpLen: 64}
	if got := chooseWitness([]*pkt{key, ign, cls}, 48, 1); got != ign {
		t.Errorf("IGNORE then CLOSE: got %+v", got)
	}
	if got := chooseWitness([]*pkt{key, ign}, 48, 0); got != ign {
		t.Errorf("got %+v", got)
	}
	both := &pkt{t: 1.0, tcpLen: 112}
	if got := chooseWitness([]*pkt{key, both}, 0, 0); got != both {
		t.Errorf("shared segment: got %+v", got)
	}
}

func TestLabCommand(t *testing.T) {
	in := "/usr/bin/python3 /srv/x/main/lab/impl/paramiko/client.py /srv/x/main/lab/scratch/keys/id_ed25519 /dev/shm/sa-lab-foo.AbC123/putty-home"
	want := "/usr/bin/python3 lab/impl/paramiko/client.py lab/scratch/keys/id_ed25519 lab/scratch/foo/putty-home"
	if got := labCommand(in, "foo"); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestPacketSize(t *testing.T) {
	for _, c := range []struct {
		kind, name, cipher, mac string
		want                    int
	}{
		{"global-request", "keepalive@openssh.com", "chacha20-poly1305@openssh.com", "<implicit>", 52},  // serveralive-chacha
		{"channel-request", "keepalive@openssh.com", "chacha20-poly1305@openssh.com", "<implicit>", 60}, // dropbear-client-nozlib
		{"ignore", "", "aes256-ctr", "hmac-sha2-256", 48},                                               // putty-client-idle
		{"global-request", "keepalive@lag.net", "aes128-ctr", "hmac-sha2-256", 64},                      // paramiko-client-idle
		{"global-request", "keepalive@openssh.com", "aes128-ctr", "hmac-sha2-256-etm@openssh.com", 68},  // serveralive-aes128ctr-etm
		{"channel-request", "keepalive@openssh.com", "aes256-gcm@openssh.com", "<implicit>", 68},        // clientalive-aes256gcm
		{"channel-request", "keepalive@openssh.com", "aes128-ctr", "hmac-sha2-256", 80},                 // clientalive-aes128ctr-hmac
		{"ignore", "", "none", "none", 0},
	} {
		if got := packetSize(probePayload(c.kind, c.name), c.cipher, c.mac); got != c.want {
			t.Errorf("%s %s %s %s: %d, want %d", c.kind, c.name, c.cipher, c.mac, got, c.want)
		}
	}
}
