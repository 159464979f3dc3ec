# lab/scenarios.d/impl2.sh: keepalives of AsyncSSH, Go x/crypto/ssh, libssh
# and libssh2 against OpenSSH 9.2 (sourced by lab/captures.sh). The programs
# are in lab/impl/ and are built into the scenario's live directory ($D) at
# capture time. The OpenSSH peer (sshd at DEBUG3, or ssh -vvv) is the witness:
# lab/truth reads the keepalives it received and answered from its log.
# Packages: python3-asyncssh libssh-dev libssh2-1-dev (Makefile LAB_IMPL_PKGS).

SCENARIOS+=(
	asyncssh-client-idle
	asyncssh-client-nocomp
	asyncssh-client-output
	asyncssh-server
	go-client-idle
	go-client-golang-name
	go-server
	libssh-client
	libssh2-client-reply
	libssh2-client-noreply
)

IMPL_PY=/usr/bin/python3 # Debian's python, where python3-asyncssh lives
# shellcheck disable=SC2016 # expanded by the remote shell
IMPL_OUTPUT='for i in $(seq 20); do echo $i; sleep 0.5; done'

# impl_version SIDE LOGNAME: a Go program logs the golang.org/x/crypto
# version it was built with (its banner "SSH-2.0-Go" has none): record it.
impl_version() {
	local v
	v=$(sed -n 's/.*golang\.org\/x\/crypto \(v[^ ,]*\).*/\1/p' "$D/$2.log" | head -1)
	[ -n "$v" ] && meta impl_version "$1" "$v"
	return 0
}

# impl_client LOGNAME SSHD_LINES... -- ARGV...: an OpenSSH sshd (DEBUG3, no
# ClientAlive) and a lab/impl client in the client namespace, captured on the
# client side; the client runs its remote command to the end.
impl_client() {
	local logname=$1 sshd=()
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do sshd+=("$1"); shift; done
	shift
	net_up
	sshd_start "ClientAliveInterval 0" "${sshd[@]}"
	cap_start client 0
	peer_bg client "$logname" "$@"
	peer_wait 40 "$logname"
	impl_version client "$logname"
	scn_end
}

# impl_server LOGNAME REMOTE_COMMAND -- ARGV...: a lab/impl server in the
# server namespace and OpenSSH's ssh -vvv (no ServerAlive) as the client,
# captured on the client side.
impl_server() {
	local logname=$1 cmd=$2
	shift 3
	net_up
	peer_bg server "$logname" "$@"
	wait_listen "$PORT" 10
	meta port "$PORT"
	cap_start client 0
	ssh_args -o ServerAliveInterval=0
	ssh_bg ssh "$cmd"
	ssh_wait 40
	peer_wait 5 "$logname"
	impl_version server "$logname"
	scn_end
}

# ---- AsyncSSH (python3-asyncssh). It sends an empty SSH_MSG_IGNORE before
# every packet once encrypted (connection.py send_packet), keepalive or not:
# those IGNOREs are not keepalives (meta witness_ignore 0).
asyncssh_client() {
	meta witness_ignore 0
	if [ "$1" = none ]; then
		meta compression "compression_algs=None"
	else
		meta compression "AsyncSSH default offer (zlib@openssh.com,none)"
	fi
	peer_setting client keepalive_interval 2
	peer_remote_command "$2"
	impl_client asyncssh -- "$IMPL_PY" "$LAB_DIR/impl/asyncssh/client.py" "$SADDR" "$PORT" "$KEYS/id_ed25519" 2 "$@"
}

scn_asyncssh-client-idle() {
	scn_begin asyncssh-client-idle "AsyncSSH client keepalive_interval=2 (global request keepalive@openssh.com, each after an empty SSH_MSG_IGNORE), remote sleep, zlib@openssh.com negotiated (AsyncSSH's default offer)"
	asyncssh_client default "sleep 11"
}

scn_asyncssh-client-nocomp() {
	scn_begin asyncssh-client-nocomp "AsyncSSH client keepalive_interval=2, remote sleep, compression_algs=None (no compression)"
	asyncssh_client none "sleep 11"
}

scn_asyncssh-client-output() {
	scn_begin asyncssh-client-output "AsyncSSH client keepalive_interval=2 while the remote command prints a line every 0.5 s: incoming data restarts its timer, so no probe (zlib)"
	asyncssh_client default "$IMPL_OUTPUT"
}

scn_asyncssh-server() {
	scn_begin asyncssh-server "AsyncSSH server keepalive_interval=2 (global request keepalive@openssh.com with a channel open, each after an empty SSH_MSG_IGNORE); OpenSSH ssh -vvv client; the session is quiet 11 s, then exit-status 0 (a channel request with no reply, the size of a probe)"
	meta witness_ignore 0
	peer_setting server keepalive_interval 2
	impl_server asyncssh "sleep 11" -- "$IMPL_PY" "$LAB_DIR/impl/asyncssh/server.py" "$SADDR" "$PORT" "$KEYS/host_ed25519" "$KEYS/authorized_keys" 2 11
}

# ---- Go golang.org/x/crypto/ssh (SendRequest on a time.Ticker)
go_build() {
	(cd "$REPO_DIR" && go build -o "$D/$1" "./lab/impl/$1") || die "go build ./lab/impl/$1"
	note "$1 built at capture time: go build -o lab/scratch/$S/$1 ./lab/impl/$1"
}

go_client() {
	go_build goclient
	peer_setting client "SendRequest timer" 2
	peer_remote_command "sleep 11"
	impl_client goclient -- "$D/goclient" -addr "$SADDR:$PORT" -key "$KEYS/id_ed25519" -hostkey "$KEYS/host_ed25519.pub" -interval 2s -name "$1" -cmd "sleep 11"
}

scn_go-client-idle() {
	scn_begin go-client-idle "Go x/crypto/ssh client: conn.SendRequest(\"keepalive@openssh.com\", true, nil) on a 2 s time.Ticker, remote sleep"
	go_client keepalive@openssh.com
}

scn_go-client-golang-name() {
	scn_begin go-client-golang-name "Go x/crypto/ssh client: conn.SendRequest(\"keepalive@golang.org\", true, nil) on a 2 s time.Ticker, remote sleep"
	go_client keepalive@golang.org
}

scn_go-server() {
	scn_begin go-server "Go x/crypto/ssh server: conn.SendRequest(\"keepalive@openssh.com\", true, nil) on a 2 s time.Ticker; OpenSSH ssh -vvv client; the session is quiet 11 s, then exit-status 0 (the size of a probe)"
	go_build goserver
	peer_setting server "SendRequest timer" 2
	impl_server goserver "sleep 11" -- "$D/goserver" -listen "$SADDR:$PORT" -hostkey "$KEYS/host_ed25519" -authorized "$KEYS/authorized_keys" -interval 2s -session 11s
}

# ---- libssh 0.10 and libssh2 1.10 (C clients)
scn_libssh-client() {
	scn_begin libssh-client "libssh 0.10 client: ssh_send_keepalive() (global request keepalive@openssh.com, want_reply 1) on the program's own 2 s timer, remote sleep"
	gcc -O2 -Wall -o "$D/libssh-client" "$LAB_DIR/impl/libssh/client.c" -lssh || die "gcc libssh"
	note "libssh-client built at capture time: gcc -O2 -Wall -o lab/scratch/$S/libssh-client lab/impl/libssh/client.c -lssh"
	peer_setting client "ssh_send_keepalive timer" 2
	peer_remote_command "sleep 11"
	impl_client libssh -- "$D/libssh-client" "$SADDR" "$PORT" "$KEYS/id_ed25519" 2 "sleep 11"
}

libssh2_client() {
	gcc -O2 -Wall -o "$D/libssh2-client" "$LAB_DIR/impl/libssh2/client.c" -lssh2 || die "gcc libssh2"
	note "libssh2-client built at capture time: gcc -O2 -Wall -o lab/scratch/$S/libssh2-client lab/impl/libssh2/client.c -lssh2"
	peer_setting client libssh2_keepalive_config 2
	peer_remote_command "sleep 11"
	impl_client libssh2 -- "$D/libssh2-client" "$SADDR" "$PORT" "$KEYS/id_ed25519.pub" "$KEYS/id_ed25519" "$1" 2 "sleep 11"
}

scn_libssh2-client-reply() {
	scn_begin libssh2-client-reply "libssh2 1.10 client: libssh2_keepalive_config(want_reply=1, 2) + libssh2_keepalive_send in its read loop (global request keepalive@libssh2.org; the first goes out right after authentication), remote sleep"
	libssh2_client 1
}

scn_libssh2-client-noreply() {
	scn_begin libssh2-client-noreply "libssh2 1.10 client: libssh2_keepalive_config(want_reply=0, 2) + libssh2_keepalive_send in its read loop (global request keepalive@libssh2.org, never answered), remote sleep"
	libssh2_client 0
}
