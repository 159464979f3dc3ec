package report

import (
	"encoding/json"
	"io"
	"math"
	"time"

	"github.com/sshalive/sshalive/analyze"
)

// Version of the JSON Lines contract; fields are only ever added.
const Version = 1

// timeFormat is RFC 3339 UTC with exactly 6 fraction digits.
const timeFormat = "2006-01-02T15:04:05.000000Z"

type jsonTime time.Time

// MarshalJSON writes RFC 3339 UTC. A time outside RFC 3339's years
// (0000–9999: a hostile or broken capture's timestamp) is clamped to the
// nearest end, so the record stays valid JSON times.
func (t jsonTime) MarshalJSON() ([]byte, error) {
	u := time.Time(t).UTC()
	switch {
	case u.Year() > 9999:
		u = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)
	case u.Year() < 0:
		u = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return []byte(`"` + u.Format(timeFormat) + `"`), nil
}

// jsonStats are durations in seconds, rounded to the microsecond.
type jsonStats struct {
	Median float64 `json:"median"`
	P25    float64 `json:"p25"`
	P75    float64 `json:"p75"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

func round6(d time.Duration) float64 { return math.Round(d.Seconds()*1e6) / 1e6 }

func statsJSON(s analyze.Stats) *jsonStats {
	if s.N == 0 {
		return nil
	}
	return &jsonStats{Median: round6(s.Median), P25: round6(s.P25), P75: round6(s.P75), Min: round6(s.Min), Max: round6(s.Max)}
}

// JSONKeepalives is one sender's keepalives of one kind.
type JSONKeepalives struct {
	Sender   string `json:"sender"`
	Kind     string `json:"kind"`
	Probes   int    `json:"probes"`
	Answered int    `json:"answered"`
	// Pending: probes sent so shortly before the capture ended that no
	// reply was due yet (neither answered nor unanswered).
	Pending    int        `json:"pending"`
	ProbeBytes int        `json:"probe_bytes"`
	ReplyBytes int        `json:"reply_bytes"`
	Interval   *jsonStats `json:"interval_s"`
	// Period: the sender's keepalive period (interval_s's median, but for
	// TCP the spacing after answered probes); RetryInterval: TCP, the
	// spacing after unanswered ones (null when none).
	Period             *float64   `json:"period_s"`
	RetryInterval      *float64   `json:"retry_interval_s"`
	IdleBefore         *jsonStats `json:"idle_before_s"`
	ReplyLatency       *jsonStats `json:"reply_latency_s"`
	LongestUnanswered  int        `json:"longest_unanswered_run"`
	TrailingUnanswered int        `json:"trailing_unanswered"`
	First              jsonTime   `json:"first"`
	Last               jsonTime   `json:"last"`
	Detection          string     `json:"detection,omitempty"`
	// Message: global-request, global-request-noreply, channel-request,
	// ignore, unknown (SSH, sizes cannot tell), tcp.
	Message       string `json:"message"`
	ReplyExpected bool   `json:"reply_expected"`
}

// JSONImplementation is the SSH software at one end, from its banner.
type JSONImplementation struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// JSONSetting is a keepalive setting the wire implies, named as the
// sender's implementation names it.
type JSONSetting struct {
	Side           string `json:"side"`
	Implementation string `json:"implementation"`
	Name           string `json:"name"`
	Value          int    `json:"value"`
	// Evidence: probe-silence, probe-interval, sshd-9.2-doubling,
	// unanswered-before-close.
	Evidence string `json:"evidence"`
	Probably bool   `json:"probably"`
}

// JSONEnd says how the connection ended, and why.
type JSONEnd struct {
	How string    `json:"how"`
	By  string    `json:"by"`
	At  *jsonTime `json:"at"`
	// Cause: keepalive-timeout, dead-path, tcp-keepalive-timeout, idle-drop,
	// idle-logout, user-exit, open, unknown.
	Cause            string         `json:"cause"`
	Actor            string         `json:"actor"`
	UnansweredProbes int            `json:"unanswered_probes"`
	IdleBeforeEnd    *float64       `json:"idle_before_end_s"`
	IdleAtLeast      bool           `json:"idle_before_end_at_least"`
	AliveUntil       *jsonTime      `json:"path_alive_until"`
	SurvivedIdle     *float64       `json:"survived_idle_s"`
	FatalIdle        *float64       `json:"fatal_idle_s"`
	DetectedAfter    *float64       `json:"detected_after_s"`
	Evidence         []JSONEvidence `json:"evidence"`
}

// JSONEvidence is one packet-time observation behind the end's cause.
type JSONEvidence struct {
	At   jsonTime `json:"at"`
	What string   `json:"what"`
}

// JSONRisk compares the connection with common middlebox idle timeouts.
type JSONRisk struct {
	LongestIdle        float64  `json:"longest_idle_s"`
	EffectiveKeepalive *float64 `json:"effective_keepalive_s"`
	EffectiveBy        string   `json:"effective_keepalive_by"`
	DroppedBy          []string `json:"dropped_by"`
	NoKeepalive        bool     `json:"no_keepalive"`
}

// JSONRecommendation is a change of settings: lines to add to a file.
type JSONRecommendation struct {
	File          string   `json:"file"`
	Lines         []string `json:"lines"`
	DeadPeerAfter *float64 `json:"dead_peer_detection_s"`
	Why           string   `json:"why"`
}

// JSONInferred holds the settings the capture implies; null = cannot tell.
type JSONInferred struct {
	ServerAliveInterval *int          `json:"ServerAliveInterval"`
	ServerAliveCountMax *int          `json:"ServerAliveCountMax"`
	ClientAliveInterval *int          `json:"ClientAliveInterval"`
	ClientAliveCountMax *int          `json:"ClientAliveCountMax"`
	TCPKeepaliveTime    *int          `json:"tcp_keepalive_time_s"`
	TCPKeepaliveIntvl   *int          `json:"tcp_keepalive_intvl_s"`
	TCPKeepaliveProbes  *int          `json:"tcp_keepalive_probes"`
	Notes               []string      `json:"notes"`
	Settings            []JSONSetting `json:"settings"`
}

// JSONCipher is the negotiated protection per direction: cipher, " + "
// MAC unless AEAD, " + " compression when on.
type JSONCipher struct {
	ClientToServer string `json:"client_to_server"`
	ServerToClient string `json:"server_to_client"`
}

// JSONConn is one connection record ("type":"connection").
type JSONConn struct {
	Type         string   `json:"type"`
	Client       string   `json:"client"`
	Server       string   `json:"server"`
	FirstSeen    jsonTime `json:"first_seen"`
	LastSeen     jsonTime `json:"last_seen"`
	Packets      int      `json:"packets"`
	Handshake    bool     `json:"handshake"`
	ClientBanner string   `json:"client_banner"`
	ServerBanner string   `json:"server_banner"`
	// ClientImplementation, ServerImplementation: from the banners; null
	// when not captured.
	ClientImplementation *JSONImplementation `json:"client_implementation"`
	ServerImplementation *JSONImplementation `json:"server_implementation"`
	Cipher               *JSONCipher         `json:"cipher"`
	SSHKeepalives        []JSONKeepalives    `json:"ssh_keepalives"`
	TCPKeepalives        []JSONKeepalives    `json:"tcp_keepalives"`
	End                  JSONEnd             `json:"end"`
	Inferred             JSONInferred        `json:"inferred"`
	LongestIdle          float64             `json:"longest_idle_s"`
	RTT                  *float64            `json:"rtt_s"`
	Unclassified         int                 `json:"unclassified"`
	Evicted              bool                `json:"evicted"`
	Explanation          []string            `json:"explanation"`
	Risk                 JSONRisk            `json:"risk"`
	// Recommendations: settings to change; [] when none is needed.
	Recommendations []JSONRecommendation `json:"recommendations"`
	// NotSSH: the wire rules SSH out (the connection's start is captured,
	// the client's first line is no SSH banner and the server sent none):
	// no SSH keepalives, settings or advice are given.
	NotSSH bool `json:"not_ssh"`
}

// JSONSummary is the last record of a run ("type":"summary").
type JSONSummary struct {
	Type        string        `json:"type"`
	Version     int           `json:"version"`
	Files       []string      `json:"files"`
	Interface   string        `json:"interface,omitempty"`
	Capture     *CaptureStats `json:"capture,omitempty"`
	Packets     int64         `json:"packets"`
	TCPSegments int64         `json:"tcp_segments"`
	Malformed   int64         `json:"malformed"`
	Connections int           `json:"connections"`
	Evicted     int           `json:"evicted"`
	NoData      int           `json:"no_data_connections"`
	Truncated   bool          `json:"truncated"`
	Errors      []string      `json:"errors"`
}

// CaptureStats are a live capture's counters (libpcap's).
type CaptureStats struct {
	Received      int64 `json:"received"`
	KernelDropped int64 `json:"dropped_by_kernel"`
	IfDropped     int64 `json:"dropped_by_interface"`
}

// Totals are the counters of a run that the Summary does not know.
type Totals struct {
	Files     []string
	Interface string
	Capture   *CaptureStats
	Packets   int64
	Malformed int64
	Truncated bool
	Errors    []string
}

func keepalivesJSON(ks []analyze.Keepalives) []JSONKeepalives {
	out := make([]JSONKeepalives, 0, len(ks))
	for _, k := range ks {
		msg, reply := k.Message.String(), k.Message.ReplyExpected()
		if k.Kind == analyze.KindTCP {
			msg, reply = "tcp", true
		}
		out = append(out, JSONKeepalives{
			Message: msg, ReplyExpected: reply,
			Sender: k.Sender.String(), Kind: k.Kind.String(), Probes: k.Probes, Answered: k.Answered, Pending: k.Pending,
			ProbeBytes: k.ProbeBytes, ReplyBytes: k.ReplyBytes,
			Interval: statsJSON(k.Interval), Period: secp(k.Every()), RetryInterval: secp(k.Retry), IdleBefore: statsJSON(k.IdleBefore), ReplyLatency: statsJSON(k.ReplyLatency),
			LongestUnanswered: k.LongestUnanswered, TrailingUnanswered: k.TrailingUnanswered,
			First: jsonTime(k.First), Last: jsonTime(k.Last), Detection: k.Mode,
		})
	}
	return out
}

// ConnJSON converts one connection to its JSON record.
func ConnJSON(c analyze.Conn) JSONConn {
	j := JSONConn{
		Type: "connection", Client: c.Client.String(), Server: c.Server.String(),
		FirstSeen: jsonTime(c.FirstSeen), LastSeen: jsonTime(c.LastSeen), Packets: c.Packets,
		Handshake: c.Handshake, ClientBanner: c.Banners[analyze.Client], ServerBanner: c.Banners[analyze.Server],
		SSHKeepalives: keepalivesJSON(c.SSH), TCPKeepalives: keepalivesJSON(c.TCP),
		End:          JSONEnd{How: c.End.How},
		LongestIdle:  round6(c.LongestIdle),
		RTT:          secp(c.RTT),
		Unclassified: c.Unclassified,
		Evicted:      c.Evicted,
		Explanation:  Sentences(c),
		NotSSH:       c.NotSSH,
	}
	j.ClientImplementation = implJSON(c.Implementations[analyze.Client])
	j.ServerImplementation = implJSON(c.Implementations[analyze.Server])
	if c.CipherKnown[0] && c.CipherKnown[1] || c.Compressed {
		j.Cipher = &JSONCipher{ClientToServer: cipherName(c.Ciphers[0]), ServerToClient: cipherName(c.Ciphers[1])}
	}
	if c.End.How != "open" {
		j.End.By = c.End.By.String()
		at := jsonTime(c.End.At)
		j.End.At = &at
	}
	endJSON(&j.End, c)
	j.Risk = riskJSON(c.Risk)
	j.Recommendations = []JSONRecommendation{}
	for _, r := range c.Recommendations {
		j.Recommendations = append(j.Recommendations, JSONRecommendation{File: r.File, Lines: settingLines(r), DeadPeerAfter: secp(r.DeadPeerAfter), Why: adviceText(r)})
	}
	inf := c.Inferred
	j.Inferred = JSONInferred{
		ServerAliveInterval: inf.ServerAliveInterval, ServerAliveCountMax: inf.ServerAliveCountMax,
		ClientAliveInterval: inf.ClientAliveInterval, ClientAliveCountMax: inf.ClientAliveCountMax,
		TCPKeepaliveTime: inf.TCPKeepaliveTime, TCPKeepaliveIntvl: inf.TCPKeepaliveIntvl, TCPKeepaliveProbes: inf.TCPKeepaliveProbes,
		Notes: noteTexts(inf.Notes), Settings: []JSONSetting{},
	}
	for _, st := range inf.Settings {
		j.Inferred.Settings = append(j.Inferred.Settings, JSONSetting{Side: st.Side.String(), Implementation: st.Implementation,
			Name: st.Name, Value: st.Value, Evidence: st.Evidence.String(), Probably: st.Probably})
	}
	return j
}

func implJSON(i analyze.Implementation) *JSONImplementation {
	if i.Name == "" {
		return nil
	}
	return &JSONImplementation{Name: i.Name, Version: i.Version}
}

// JSON writes one line per connection, then the summary line.
func JSON(w io.Writer, s analyze.Summary, t Totals) error {
	for _, c := range s.Conns {
		if err := WriteConn(w, c); err != nil {
			return err
		}
	}
	return WriteSummary(w, len(s.Conns), s, t)
}

func writeLine(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// WriteConn writes one connection record.
func WriteConn(w io.Writer, c analyze.Conn) error { return writeLine(w, ConnJSON(c)) }

// WriteSummary writes the summary record; conns counts every connection
// reported in the run, including records written earlier.
func WriteSummary(w io.Writer, conns int, s analyze.Summary, t Totals) error {
	files, errs := t.Files, t.Errors
	if files == nil {
		files = []string{}
	}
	if errs == nil {
		errs = []string{}
	}
	return writeLine(w, JSONSummary{
		Type: "summary", Version: Version, Files: files, Interface: t.Interface, Packets: t.Packets, TCPSegments: s.Segments,
		Malformed: t.Malformed, Connections: conns, Evicted: s.Evicted, NoData: s.NoData, Truncated: t.Truncated, Errors: errs, Capture: t.Capture,
	})
}

// JSONInterim heads an interim report of a live capture; a "snapshot"
// record per open connection follows it.
type JSONInterim struct {
	Type     string   `json:"type"`
	At       jsonTime `json:"at"`
	Segments int64    `json:"tcp_segments"`
	Open     int      `json:"open_connections"`
	Ended    int      `json:"ended_connections"`
}

// WriteInterim writes an interim report: the heading record, then one
// "snapshot" record (the connection record's fields) per open connection.
func WriteInterim(w io.Writer, at time.Time, open []analyze.Conn, ended int, segments int64) error {
	stillOpen := StillOpen(open)
	if err := writeLine(w, JSONInterim{Type: "interim", At: jsonTime(at), Segments: segments, Open: stillOpen, Ended: ended + len(open) - stillOpen}); err != nil {
		return err
	}
	for _, c := range open {
		j := ConnJSON(c)
		j.Type = "snapshot"
		if err := writeLine(w, j); err != nil {
			return err
		}
	}
	return nil
}

// StillOpen counts the connections of a snapshot that have not ended: the
// table also holds closed ones for a while, for their last packets.
func StillOpen(cs []analyze.Conn) int {
	n := 0
	for _, c := range cs {
		if c.End.How == "open" {
			n++
		}
	}
	return n
}

// UnmarshalJSON reads the format MarshalJSON writes, so scripts in Go (and
// the tests) can decode the records with these types.
func (t *jsonTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return err
	}
	*t = jsonTime(v)
	return nil
}

// secp is a duration in seconds (µs precision), nil for zero.
func secp(d time.Duration) *float64 {
	if d <= 0 {
		return nil
	}
	v := round6(d)
	return &v
}

func endJSON(j *JSONEnd, c analyze.Conn) {
	e := c.End
	j.Cause = e.Cause.String()
	if e.Cause != analyze.CauseOpen && e.Cause != analyze.CauseUnknown {
		j.Actor = e.Actor.String()
	}
	j.UnansweredProbes = e.UnansweredProbes
	if e.HasIdle {
		v := round6(e.IdleBeforeEnd)
		j.IdleBeforeEnd = &v
		j.IdleAtLeast = e.IdleAtLeast
	}
	if !e.AliveUntil.IsZero() {
		t := jsonTime(e.AliveUntil)
		j.AliveUntil = &t
	}
	if e.Cause == analyze.CauseIdleDrop {
		sv, fv := round6(e.SurvivedIdle), round6(e.FatalIdle)
		j.SurvivedIdle, j.FatalIdle = &sv, &fv
	}
	j.DetectedAfter = secp(e.DetectedAfter)
	j.Evidence = []JSONEvidence{}
	for _, x := range e.Evidence {
		if x.At.IsZero() {
			continue
		}
		j.Evidence = append(j.Evidence, JSONEvidence{At: jsonTime(x.At), What: evidenceText(x)})
	}
}

func riskJSON(r analyze.Risk) JSONRisk {
	j := JSONRisk{LongestIdle: round6(r.LongestIdle), EffectiveKeepalive: secp(r.EffectiveKeepalive),
		DroppedBy: []string{}, NoKeepalive: r.NoKeepalive}
	if r.EffectiveKeepalive > 0 {
		j.EffectiveBy = mechanismName(r.EffectiveBy)
	}
	for _, m := range r.DroppedBy {
		j.DroppedBy = append(j.DroppedBy, m.ID)
	}
	return j
}
