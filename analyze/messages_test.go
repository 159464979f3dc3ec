package analyze

import (
	"slices"
	"testing"
	"time"
)

func TestImplementation(t *testing.T) {
	for _, tt := range []struct {
		banner, name, version string
	}{
		{"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10", ImplOpenSSH, "9.2p1"},
		{"SSH-2.0-OpenSSH_10.0p2 Debian-7+deb13u4", ImplOpenSSH, "10.0p2"},
		{"SSH-2.0-PuTTY_Release_0.78", ImplPuTTY, "0.78"},
		{"SSH-2.0-dropbear_2022.83", ImplDropbear, "2022.83"},
		{"SSH-2.0-paramiko_2.12.0", ImplParamiko, "2.12.0"},
		{"SSH-2.0-AsyncSSH_2.10.1", ImplAsyncSSH, "2.10.1"},
		{"SSH-2.0-Go", ImplGo, ""},
		{"SSH-2.0-libssh_0.10.6", ImplLibssh, "0.10.6"},
		{"SSH-2.0-libssh2_1.10.0", ImplLibssh2, "1.10.0"},
		{"SSH-2.0-Cisco-1.25", "Cisco-1.25", ""},
	} {
		b, ok := parseBanner(tt.banner)
		if !ok {
			t.Fatalf("%q: not parsed", tt.banner)
		}
		if got := b.Implementation(); got.Name != tt.name || got.Version != tt.version {
			t.Errorf("%q: %+v, want %s %s", tt.banner, got, tt.name, tt.version)
		}
	}
}

// TestShapesFor pins each implementation's keepalive messages and their
// sizes to what the lab captured (testdata/pcaps/manifest.json).
func TestShapesFor(t *testing.T) {
	chacha, _ := NewCipherSpec("chacha20-poly1305@openssh.com", "", "none")
	gcm, _ := NewCipherSpec("aes128-gcm@openssh.com", "", "none")
	ctr, _ := NewCipherSpec("aes128-ctr", "hmac-sha2-256", "none")
	type sh = keepaliveShape
	for _, tt := range []struct {
		impl       string
		side       Role
		send, recv CipherSpec
		want       []sh
	}{
		{ImplOpenSSH, Client, chacha, chacha, []sh{{MsgGlobalRequest, 52, 28}}},
		{ImplOpenSSH, Server, chacha, chacha, []sh{{MsgGlobalRequest, 52, 28}, {MsgChannelRequest, 60, 36}}},
		{"", Client, ctr, ctr, []sh{{MsgGlobalRequest, 80, 48}, {MsgChannelRequest, 80, 48}}},
		{ImplPuTTY, Client, ctr, ctr, []sh{{MsgIgnore, 48, 0}}},                  // aes256-ctr+hmac-sha2-256: 48
		{ImplParamiko, Client, ctr, ctr, []sh{{MsgGlobalRequestNoReply, 64, 0}}}, // keepalive@lag.net
		{ImplLibssh2, Client, ctr, ctr, []sh{{MsgGlobalRequest, 80, 48}, {MsgGlobalRequestNoReply, 80, 0}}},
		{ImplGo, Client, gcm, gcm, []sh{{MsgGlobalRequest, 52, 36}}}, // three names, one size
		{ImplGo, Client, ctr, ctr, []sh{{MsgGlobalRequest, 80, 48}, {MsgGlobalRequest, 64, 48}}},
		{ImplDropbear, Server, chacha, chacha, []sh{{MsgGlobalRequest, 52, 28}, {MsgChannelRequest, 60, 36}}},
	} {
		if got := shapesFor(tt.impl, tt.side, tt.send, tt.recv); !slices.Equal(got, tt.want) {
			t.Errorf("%s %s under %s: %+v, want %+v", tt.impl, tt.side, tt.send.Cipher, got, tt.want)
		}
	}
}

// TestTimerView: the silence each implementation's keepalive timer counts.
func TestTimerView(t *testing.T) {
	s := time.Second
	for _, tt := range []struct {
		banner     string
		side       Role
		recv, sent time.Duration
		want       time.Duration
	}{
		{"SSH-2.0-OpenSSH_9.2p1", Client, 2 * s, s / 2, 2 * s},             // ssh: since it last heard the server
		{"SSH-2.0-OpenSSH_9.2p1", Server, 2 * s, s / 2, s / 2},             // sshd ≥ 9.2: no event either way
		{"SSH-2.0-OpenSSH_8.9p1", Server, 2 * s, s / 2, 2 * s},             // sshd 8.x: since client data
		{"SSH-2.0-dropbear_2022.83", Client, s / 2, 2 * s, 2 * s},          // nothing sent or nothing received
		{"SSH-2.0-paramiko_2.12.0", Client, s / 2, 2 * s, 2 * s},           // own sends only
		{"SSH-2.0-paramiko_2.12.0", Client, s / 2, unknownIdle, s / 2},     // nothing sent yet
		{"SSH-2.0-AsyncSSH_2.10.1", Client, s / 2, 2 * s, s / 2},           // restarts on incoming data
		{"SSH-2.0-OpenSSH_9.2p1", Server, unknownIdle, 2 * s, unknownIdle}, // mid-stream: unknown
	} {
		b, _ := parseBanner(tt.banner)
		if got := timerOf(b, tt.side).idle(tt.recv, tt.sent); got != tt.want {
			t.Errorf("%s %s recv %v sent %v: %v, want %v", tt.banner, tt.side, tt.recv, tt.sent, got, tt.want)
		}
	}
}
