package main

import "time"

// Truth is the file -truth writes. Field names follow sshalive's --json
// contract (README "JSON output").
type Truth struct {
	Version     int         `json:"version"`
	Seed        uint64      `json:"seed"`
	Start       time.Time   `json:"start"`
	Duration    string      `json:"duration"`
	Packets     int         `json:"packets"`
	SynFlood    int         `json:"syn_flood"` // SYN-only connections, not listed
	Connections []TruthConn `json:"connections"`
}

// TruthConn is one planted connection.
type TruthConn struct {
	Client        string        `json:"client"`
	Server        string        `json:"server"`
	ClientBanner  string        `json:"client_banner"`
	ServerBanner  string        `json:"server_banner"`
	Cipher        TruthCipher   `json:"cipher"`
	SSHKeepalives []TruthProbes `json:"ssh_keepalives"`
	TCPKeepalives []TruthProbes `json:"tcp_keepalives"`
	End           TruthEnd      `json:"end"`
	Inferred      TruthSettings `json:"inferred"`
	Packets       int           `json:"packets"`
	Story         []string      `json:"story"` // how it ended, for a reader
}

// TruthCipher names the negotiated protection as sshalive does.
type TruthCipher struct {
	ClientToServer string `json:"client_to_server"`
	ServerToClient string `json:"server_to_client"`
}

// TruthProbes is one sender's keepalives.
type TruthProbes struct {
	Sender     string `json:"sender"`
	Kind       string `json:"kind"`
	Probes     int    `json:"probes"`
	Answered   int    `json:"answered"`
	ProbeBytes int    `json:"probe_bytes"`
	ReplyBytes int    `json:"reply_bytes"` // 0 when none was answered
}

// TruthEnd is how the connection ended; "open" when the capture ended first.
type TruthEnd struct {
	How string `json:"how"`
	By  string `json:"by"`
}

// TruthSettings are the configured intervals (null when off or never seen
// on the wire: only settings whose probes are in the capture are listed).
type TruthSettings struct {
	ServerAliveInterval *int `json:"ServerAliveInterval"`
	ClientAliveInterval *int `json:"ClientAliveInterval"`
}

// connTruth accumulates what a connection put on the wire.
type connTruth struct {
	c        TruthConn
	ssh, tcp [2]TruthProbes
	alive    [2]int // configured intervals
	s        suite
}

var roles = [2]string{"client", "server"}

func (t *connTruth) sshProbe(from int, kind string, size, reply int, answered bool) {
	p := &t.ssh[from]
	p.Sender, p.Kind, p.ProbeBytes = roles[from], kind, size
	p.Probes++
	if answered {
		p.Answered++
		p.ReplyBytes = reply
	}
}

func (t *connTruth) tcpProbe(from int, answered bool) {
	p := &t.tcp[from]
	p.Sender, p.Kind = roles[from], "tcp"
	p.Probes++
	if answered {
		p.Answered++
	}
}

func (t *connTruth) json() TruthConn {
	c := t.c
	c.SSHKeepalives, c.TCPKeepalives = []TruthProbes{}, []TruthProbes{}
	for d := range 2 {
		// A sender none of whose probes was ever answered (its first one
		// died with the path) sent one probe-sized segment the wire cannot
		// tell from typed data: sshalive does not count it, nor does this.
		if p := t.ssh[d]; p.Probes > 0 && p.Answered > 0 {
			// Where a global and a channel request have the same size (and
			// so do their replies, or a probe went unanswered), the wire
			// cannot tell which sshd sent; ssh (the client, an OpenSSH
			// banner) sends only global requests.
			s := t.s
			if d == 1 && s.wire(payGlobalReq) == s.wire(payChannelReq) && (s.wire(payReqFailure) == s.wire(payChanFailure) || p.Answered < p.Probes) {
				p.Kind = "ssh"
			}
			c.SSHKeepalives = append(c.SSHKeepalives, p)
			v := t.alive[d]
			if d == 0 {
				c.Inferred.ServerAliveInterval = &v
			} else {
				c.Inferred.ClientAliveInterval = &v
			}
		}
		if t.tcp[d].Probes > 0 {
			c.TCPKeepalives = append(c.TCPKeepalives, t.tcp[d])
		}
	}
	return c
}
