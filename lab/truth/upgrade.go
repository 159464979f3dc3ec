package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
)

// upgradeEntry adds the fields newer than an entry (connections'
// "implementations"; keepalives' "request_name", "reply_expected",
// "setting") to a lab entry kept from an older manifest whose scenario was
// not rebuilt in this run (its logs may be gone). Only OpenSSH-only entries
// are upgraded, from what they and their capture already hold: the banners
// in the capture (tshark ssh.protocol), else the manifest's OpenSSH version,
// which came from the same lab's logs; the message kind OpenSSH sends
// (keepalive@openssh.com, want_reply 1); the interval the entry's made
// records. It returns the entry unchanged when nothing is missing.
func upgradeEntry(raw json.RawMessage, out, openssh string) (json.RawMessage, bool, error) {
	var probe struct {
		Synthetic   bool              `json:"synthetic"`
		Connections []json.RawMessage `json:"connections"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return raw, false, err
	}
	if probe.Synthetic || len(probe.Connections) == 0 {
		return raw, false, nil
	}
	missing := false
	for _, cr := range probe.Connections {
		var h map[string]json.RawMessage
		if err := json.Unmarshal(cr, &h); err != nil {
			return raw, false, err
		}
		if _, ok := h["implementations"]; !ok {
			missing = true
		}
	}
	if !missing {
		return raw, false, nil
	}
	var c capture
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields() // an entry this struct cannot carry whole is left alone
	if err := dec.Decode(&c); err != nil {
		return raw, false, nil
	}
	if c.Made.ClientImpl != "" || c.Made.ServerImpl != "" || c.Made.SSHBase == "" {
		return raw, false, nil // not an OpenSSH-only lab entry
	}
	ban, err := wireBanners(out+"/"+c.File, c.Made.Port)
	if err != nil {
		return raw, false, err
	}
	soft := strings.TrimPrefix(openssh, "SSH-2.0-")
	for i := range c.Connections {
		cn := &c.Connections[i]
		b := ban[cn.Client]
		cli, srv := b[0], b[1]
		if cli == "" {
			cli = soft
		}
		if srv == "" {
			srv = soft
		}
		cn.Implementations = implementations{Client: parseBanner(cli), Server: parseBanner(srv)}
		opts := c.Made.SSHOptions
		for _, mc := range c.Made.Clients {
			if mc.Connection == cn.Client {
				opts = mc.SSHOptions
			}
		}
		for k := range cn.SSHKeepalives {
			ka := &cn.SSHKeepalives[k]
			if ka.Message != "global-request" && ka.Message != "channel-request" {
				continue
			}
			ka.RequestName, ka.ReplyExpected = kaOpenSSH, true
			if ka.Sender == "client" {
				v, _ := optionValue(opts, "ServerAliveInterval")
				ka.Setting = newSetting("ServerAliveInterval", v)
			} else {
				v, _ := configValue(c.Made.SSHDConfig, "ClientAliveInterval")
				ka.Setting = newSetting("ClientAliveInterval", v)
			}
		}
	}
	b, err := marshal(&c, "")
	if err != nil {
		return raw, false, err
	}
	return bytes.TrimRight(b, "\n"), true, nil
}

// wireBanners: the SSH banners in a capture, by the connection's client
// endpoint ("ip:port" as the manifest writes it): [client's, server's]
// software version, "" where the capture holds none (it started late, or
// the snap length cut it).
func wireBanners(path string, port int) (map[string][2]string, error) {
	args := []string{"-r", path, "-Y", "ssh.protocol", "-T", "fields", "-E", "separator=/t",
		"-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport", "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport", "-e", "ssh.protocol", "-e", "frame.cap_len", "-e", "frame.len"}
	if port != 22 && port > 0 {
		args = append(args, "-d", fmt.Sprintf("tcp.port==%d,ssh", port))
	}
	outb, err := exec.Command("tshark", args...).Output()
	if err != nil {
		return nil, fmt.Errorf("tshark %s: %w", path, err)
	}
	res := map[string][2]string{}
	for _, ln := range strings.Split(strings.TrimSpace(string(outb)), "\n") {
		f := strings.Split(ln, "\t")
		if len(f) < 9 || f[7] != f[8] {
			continue // a banner cut short by the snap length is no banner
		}
		src, dst := f[0], f[3]
		if src == "" {
			src, dst = f[1], f[4]
		}
		soft := f[6] // SSH-protoversion-softwareversion SP comments
		if p := strings.SplitN(soft, "-", 3); len(p) == 3 {
			soft = p[2]
		}
		ep := func(a, p string) string {
			if strings.Contains(a, ":") {
				return "[" + a + "]:" + p
			}
			return a + ":" + p
		}
		if atoi(f[5]) == port || port == 0 {
			k := ep(src, f[2])
			b := res[k]
			b[0] = soft
			res[k] = b
		} else {
			k := ep(dst, f[5])
			b := res[k]
			b[1] = soft
			res[k] = b
		}
	}
	return res, nil
}
