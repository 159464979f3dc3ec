package analyze

import (
	"slices"
	"strconv"
	"testing"
	"time"
)

func sec(s int) time.Duration { return time.Duration(s) * time.Second }

func every(sender Role, s int) []Keepalives {
	return []Keepalives{{Sender: sender, Message: MsgGlobalRequest, Interval: Stats{N: 3, Median: sec(s)}}}
}

func TestRisk(t *testing.T) {
	ids := func(ms []Middlebox) (out []string) {
		for _, m := range ms {
			out = append(out, m.ID)
		}
		return out
	}
	tests := []struct {
		name    string
		c       Conn
		eff     time.Duration
		by      Mechanism
		dropped []string
	}{
		{"keepalives every 20 s: nothing drops it", Conn{LongestIdle: sec(20), SSH: every(Client, 20)},
			sec(20), Mechanism{Sender: Client, Setting: "ServerAliveInterval"}, nil},
		{"ClientAlive every 300 s: Azure drops it", Conn{LongestIdle: sec(300), SSH: every(Server, 300)},
			sec(300), Mechanism{Sender: Server, Setting: "ClientAliveInterval"}, []string{"azure"}},
		{"PuTTY every 30 s: named by its setting", Conn{LongestIdle: sec(30), SSH: every(Client, 30),
			Implementations: [2]Implementation{{Name: ImplPuTTY, Version: "0.78"}}},
			sec(30), Mechanism{Sender: Client, Setting: "PingIntervalSecs"}, nil},
		{"no keepalive: every middlebox", Conn{LongestIdle: sec(8)},
			0, Mechanism{}, []string{"azure", "aws", "gcp-vpc", "ipvs", "gcp-cloud-nat", "firewall"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := risk(&tt.c)
			if r.EffectiveKeepalive != tt.eff || r.EffectiveBy != tt.by || !slices.Equal(ids(r.DroppedBy), tt.dropped) || r.NoKeepalive != (tt.eff == 0) {
				t.Errorf("risk %+v", r)
			}
		})
	}
}

// rec is a recommendation reduced to what the tests compare.
type rec struct {
	file   string
	lines  []string
	detect time.Duration
	advice Advice
}

func recs(rs []Recommendation) []rec {
	var out []rec
	for _, r := range rs {
		x := rec{file: r.File, detect: r.DeadPeerAfter, advice: r.Advice}
		for _, s := range r.Settings {
			x.lines = append(x.lines, s.Name+" "+strconv.Itoa(s.Value))
		}
		out = append(out, x)
	}
	return out
}

func TestRecommend(t *testing.T) {
	openssh := [2]Implementation{{Name: ImplOpenSSH}, {Name: ImplOpenSSH}}
	tests := []struct {
		name   string
		c      Conn
		sshd92 bool
		want   []rec
	}{
		{"keepalives every 20 s: nothing to change", Conn{LongestIdle: sec(20), SSH: every(Client, 20), End: End{Cause: CauseOpen}}, false, nil},
		{"no keepalive, sshd 9.2: both sides, the server's halved", Conn{LongestIdle: sec(8), End: End{Cause: CauseUserExit}, Implementations: openssh}, true, []rec{
			{FileSSHConfig, []string{"ServerAliveInterval 60", "ServerAliveCountMax 3"}, sec(240), AdviceShortest},
			{FileSSHDConfig, []string{"ClientAliveInterval 30", "ClientAliveCountMax 3"}, sec(240), AdviceServer}}},
		{"idle drop between 3.1 and 9.1 s: probes under the survived silence", Conn{LongestIdle: sec(9),
			End: End{Cause: CauseIdleDrop, SurvivedIdle: 3100 * time.Millisecond, FatalIdle: 9100 * time.Millisecond}}, false, []rec{
			{FileSSHConfig, []string{"ServerAliveInterval 1", "ServerAliveCountMax 3"}, sec(4), AdviceIdleDrop},
			{FileSSHDConfig, []string{"ClientAliveInterval 1", "ClientAliveCountMax 3"}, sec(4), AdviceServer}}},
		{"idle logout: a note, no lines", Conn{LongestIdle: sec(20), SSH: every(Client, 20), End: End{Cause: CauseIdleLogout}}, false, []rec{
			{"", nil, 0, AdviceTMOUT}}},
		{"PuTTY probing every 300 s: its own setting, shorter; none added to the server",
			Conn{LongestIdle: sec(300), SSH: every(Client, 300), End: End{Cause: CauseOpen},
				Implementations: [2]Implementation{{Name: ImplPuTTY}, {Name: ImplOpenSSH}}}, false, []rec{
				{FilePuTTY, []string{"PingIntervalSecs 60"}, 0, AdviceShortest}}},
		{"Dropbear server, no keepalive: dbclient's -K and dropbear's -K",
			Conn{LongestIdle: sec(5), End: End{Cause: CauseUserExit},
				Implementations: [2]Implementation{{Name: ImplDropbear}, {Name: ImplDropbear}}}, false, []rec{
				{FileDbclient, []string{"-K 60"}, 0, AdviceShortest},
				{FileDropbear, []string{"-K 60"}, 0, AdviceServer}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.c.Risk = risk(&tt.c)
			got := recs(recommend(&tt.c, tt.sshd92))
			if !slices.EqualFunc(got, tt.want, func(a, b rec) bool {
				return a.file == b.file && slices.Equal(a.lines, b.lines) && a.detect == b.detect && a.advice == b.advice
			}) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
