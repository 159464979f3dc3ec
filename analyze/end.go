package analyze

import "time"

// End says how a connection ended, and why.
type End struct {
	How string // "fin", "rst" or "open" (the capture ended first)
	By  Role   // meaningful unless How is "open"
	At  time.Time

	Cause Cause
	// Actor is the end that gave up, logged out or exited (the prober for
	// a keepalive timeout, the server for an idle logout, the sender of the
	// stalled segment for a dead path or idle drop).
	Actor Role
	// UnansweredProbes: keepalive probes sent without an answer before the
	// end (those on the wire; on a dead path later ones queue unseen).
	UnansweredProbes int
	// IdleBeforeEnd is the silence (no data either way, keepalives do not
	// count) before the end began; IdleAtLeast marks a lower bound (the
	// capture began during the silence). HasIdle is false when unknown.
	IdleBeforeEnd time.Duration
	IdleAtLeast   bool
	HasIdle       bool
	// AliveUntil is the last packet the stalled sender's peer got through
	// (dead path, idle drop): the path worked until then.
	AliveUntil time.Time
	// Idle drop: the longest silence the path survived and the silence it
	// did not; its idle timeout lies between them.
	SurvivedIdle, FatalIdle time.Duration
	// DetectedAfter is how long the keepalive mechanism took from the last
	// answered packet to the prober's close (keepalive and TCP keepalive
	// timeouts).
	DetectedAfter time.Duration
	// Logout says how an idle logout looked (CauseIdleLogout).
	Logout LogoutKind
	// Evidence lists the packets the diagnosis rests on, in time order.
	Evidence []Evidence
}

// LogoutKind is how the server ended a session after the client's silence.
type LogoutKind uint8

// Kinds of idle logout.
const (
	LogoutNone    LogoutKind = iota
	LogoutMessage            // a last message, then the close: a shell's TMOUT, or a command whose last act was to print
	LogoutBare               // a bare FIN: the server's own idle timer (Dropbear -I, sshd's UnusedConnectionTimeout)
)

// Cause is why a connection ended.
type Cause uint8

// The causes of a connection's end.
const (
	CauseUnknown             Cause = iota
	CauseOpen                      // the capture ended first
	CauseUserExit                  // an ordinary end: the user exited, input ended, the command finished
	CauseIdleLogout                // the server ended the session after a silence of the client
	CauseIdleDrop                  // a middlebox forgot the idle connection
	CauseKeepaliveTimeout          // SSH keepalives TCP-acknowledged but not answered; the prober gave up
	CauseDeadPath                  // a segment unacknowledged and retransmitted: the path died
	CauseTCPKeepaliveTimeout       // TCP keepalives unanswered, then the prober's RST
	CauseCommandEnded              // the remote command ended: the server closed the session after the client's silence, without a last message
	CauseServerEnded               // the server ended the session after the client's silence; without exact sizes the wire cannot tell a command's end from an idle logout
)

func (c Cause) String() string {
	switch c {
	case CauseOpen:
		return "open"
	case CauseUserExit:
		return "user-exit"
	case CauseIdleLogout:
		return "idle-logout"
	case CauseIdleDrop:
		return "idle-drop"
	case CauseKeepaliveTimeout:
		return "keepalive-timeout"
	case CauseDeadPath:
		return "dead-path"
	case CauseTCPKeepaliveTimeout:
		return "tcp-keepalive-timeout"
	case CauseCommandEnded:
		return "command-ended"
	case CauseServerEnded:
		return "server-ended"
	}
	return "unknown"
}

// Evidence is one observation behind a diagnosis: a packet, what it shows
// (Kind) and the numbers that go with it. report words it.
type Evidence struct {
	At   time.Time
	Kind EvidenceKind
	// Who is the end the observation is about (the sender of the packet,
	// or for EvLastFrom the end it came from).
	Who Role
	// Count is a number of probes (EvTCPProbesUnanswered, EvProbesUnanswered).
	Count int
	// Idle is a silence (EvSilence*, EvDataAfter); Survived the longest
	// one before it (EvLastBeforeSilence); AtLeast marks Idle a lower bound.
	Idle, Survived time.Duration
	AtLeast        bool
	// How is "fin" or "rst" (EvGivesUp, EvCloses).
	How string
	// Stall: how the stalled segment fared (EvFirstAfterSilence, EvStalled).
	Stall Stall
}

// Stall is what became of a segment the peer never acknowledged.
type Stall struct {
	Probe       bool // the segment is a keepalive probe
	Retrans     int  // times retransmitted
	LastRetrans time.Time
	RST         bool // answered by the peer's RST instead
}

// EvidenceKind names an observation of the end diagnosis.
type EvidenceKind uint8

// Kinds of evidence.
const (
	EvLastFrom            EvidenceKind = iota + 1 // the last packet from Who
	EvTCPProbesUnanswered                         // the first of Count TCP keepalives from Who left unanswered
	EvKernelReset                                 // Who resets the connection: its kernel gave up
	EvLastBeforeSilence                           // the last packet before a silence of Idle (Survived was survived)
	EvFirstAfterSilence                           // Who's first segment after the silence, and its Stall
	EvPathWorked                                  // the last packet from Who: the path worked until then
	EvStalled                                     // Who's segment (Stall): later data and the FIN queue behind it
	EvLastProbeAnswered                           // the last probe from Who that was answered
	EvProbesUnanswered                            // Count probes from Who acknowledged by TCP but never answered
	EvGivesUp                                     // Who gives up and closes (How)
	EvCaptureEnded                                // the last packet: the capture ended with the connection open
	EvServerAfterSilence                          // the server sends data after Idle without input (AtLeast)
	EvCloses                                      // Who closes (How)
	EvDataAfter                                   // Who sends data after Idle
	EvResetNoSign                                 // Who resets the connection without a sign of why
	EvLastData                                    // the last data either way before a silence
	EvServerCloses                                // the server closes the session (exit status, EOF, CLOSE) after Idle without input
	EvServerWasActive                             // the server sent data during the client's silence of Idle
)
