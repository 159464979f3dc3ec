package analyze

import (
	"testing"
	"time"
)

// cand is a candidate at ms after t0.
func cand(ms int, size int) sshCand {
	return sshCand{at: t0.Add(time.Duration(ms) * time.Millisecond), size: size, idle: unknownIdle, probeEv: -1, replyEv: -1}
}

func answeredCand(ms, size, reply int, idle time.Duration) sshCand {
	c := cand(ms, size)
	c.answered, c.replySize, c.idle = true, reply, idle
	return c
}

func atsMS(cs []sshCand) []int {
	var out []int
	for _, c := range cs {
		out = append(out, int(c.at.Sub(t0)/time.Millisecond))
	}
	return out
}

func TestClockwork(t *testing.T) {
	tests := []struct {
		name       string
		ms         []int
		earlyFirst bool
		want       []int
	}{
		{"paramiko every 2 s, polled every 0.1 s", []int{2129, 4135, 6143, 8148, 10152}, false, []int{2129, 4135, 6143, 8148, 10152}},
		{"keystrokes of the same size around the schedule", []int{1000, 2000, 2300, 2450, 4000, 4100, 6010, 6500, 8000}, false, []int{2000, 4000, 6010, 8000}},
		{"two are no schedule", []int{2000, 4000}, false, nil},
		{"typing at random is none", []int{1000, 1370, 2900, 3100, 5600, 5650, 7800}, false, nil},
		{"libssh2: the first right after authentication", []int{1720, 3170, 5175, 7180, 9185}, true, []int{1720, 3170, 5175, 7180, 9185}},
		{"without earlyFirst the early one is left out", []int{1720, 3170, 5175, 7180, 9185}, false, []int{3170, 5175, 7180, 9185}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var members []sshCand
			for _, ms := range tt.ms {
				members = append(members, cand(ms, 64))
			}
			got := atsMS(clockwork(members, tt.earlyFirst))
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}

// TestNoReplyBySize: PuTTY's IGNORE has a size no keystroke has under its
// default cipher, so every one counts (alone or beside keystrokes), but not
// the same-sized CHANNEL_EOF/CLOSE answering the server's exit.
func TestNoReplyBySize(t *testing.T) {
	ctr, _ := NewCipherSpec("aes256-ctr", "hmac-sha2-256", "none")
	sh := shapesFor(ImplPuTTY, Client, ctr, ctr)
	closing := cand(11222, 48)
	closing.afterPeer = true
	cands := []sshCand{cand(2144, 112), cand(6010, 48), cand(7755, 112), cand(8371, 112), cand(10045, 112), cand(14017, 48), cand(14902, 112), closing}
	got := byClockwork(cands, sh, ctr, ImplPuTTY)
	if len(got) != 7 {
		t.Fatalf("%d IGNOREs, want 7", len(got))
	}
	for _, a := range got {
		if a.msg != MsgIgnore || a.size != 48 || a.answered {
			t.Errorf("%+v", a)
		}
	}
	// under chacha20 a keystroke is as big as an IGNORE: the schedule decides
	chacha, _ := NewCipherSpec("chacha20-poly1305@openssh.com", "", "none")
	typed := []sshCand{cand(1000, 36), cand(1400, 36), cand(2800, 36), cand(4100, 36)}
	if got := byClockwork(typed, shapesFor(ImplPuTTY, Client, chacha, chacha), chacha, ImplPuTTY); len(got) != 0 {
		t.Errorf("keystrokes taken for IGNOREs: %+v", got)
	}
}

// TestByCompression: AsyncSSH and dbclient under zlib — the first probe
// compresses worse (60 B), the rest to a steady 36 B; replies alternate 28
// and 36 B; a probe coalesced with dbclient's CLOSE (72 B) is answered by the
// small REQUEST_FAILURE.
func TestByCompression(t *testing.T) {
	s := time.Second
	cands := []sshCand{
		answeredCand(2122, 60, 36, 2*s),
		answeredCand(4123, 36, 28, 2*s),
		answeredCand(6126, 36, 36, 2*s),
		answeredCand(8127, 36, 28, 2*s),
		answeredCand(10129, 36, 36, 2*s),
		answeredCand(11222, 72, 28, 1093*time.Millisecond),
	}
	acc, _ := byCompression(cands, nil, 36, time.Time{}, true)
	if len(acc) != 6 {
		t.Fatalf("%d probes, want 6: %+v", len(acc), acc)
	}
	for _, a := range acc {
		if a.size != 36 {
			t.Errorf("probe counted at %d B, want 36", a.size)
		}
	}
	// typing under zlib: echoes after pauses of every length are no timer
	var typing []sshCand
	for i, idle := range []time.Duration{1100, 2700, 1400, 3900, 1900, 5200} {
		typing = append(typing, answeredCand(1000*(i+1), 36, 36, idle*time.Millisecond))
	}
	if acc, _ := byCompression(typing, nil, 36, time.Time{}, true); len(acc) != 0 {
		t.Errorf("typing taken for keepalives: %d", len(acc))
	}
}
