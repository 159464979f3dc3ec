/*
 * lab/impl/libssh2/client.c: a lab SSH client on libssh2 1.10, using its
 * keepalive as documented: libssh2_keepalive_config(session, WANT_REPLY,
 * INTERVAL) once, then libssh2_keepalive_send() on every turn of the read
 * loop (it sends only when INTERVAL s passed since the last packet it sent)
 * while a remote command runs. lab/scenarios.d/impl2.sh runs it against a
 * throwaway OpenSSH sshd whose DEBUG3 log is the truth.
 *
 *   client HOST PORT PUBKEY KEY WANT_REPLY INTERVAL 'REMOTE COMMAND'
 *
 * Bounded: gives up after 60 s. Host key not checked (lab namespaces only).
 */
#include <arpa/inet.h>
#include <libssh2.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 8) {
		fprintf(stderr, "usage: client HOST PORT PUBKEY KEY WANT_REPLY INTERVAL COMMAND\n");
		return 2;
	}
	int want_reply = atoi(argv[5]);
	unsigned interval = atoi(argv[6]);
	fprintf(stderr, "libssh2 client: libssh2 %s, libssh2_keepalive_config(want_reply=%d, %u)\n",
		libssh2_version(0), want_reply, interval);

	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
	inet_pton(AF_INET, argv[1], &sin.sin_addr);
	int sock = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(sock, (struct sockaddr *)&sin, sizeof sin) != 0) {
		perror("connect");
		return 1;
	}
	libssh2_init(0);
	LIBSSH2_SESSION *s = libssh2_session_init();
	if (libssh2_session_handshake(s, sock) != 0 ||
	    libssh2_userauth_publickey_fromfile(s, "root", argv[3], argv[4], NULL) != 0) {
		char *msg;
		libssh2_session_last_error(s, &msg, NULL, 0);
		fprintf(stderr, "handshake/auth: %s\n", msg);
		return 1;
	}
	fprintf(stderr, "connected: server %s\n", libssh2_session_banner_get(s));
	libssh2_keepalive_config(s, want_reply, interval);
	LIBSSH2_CHANNEL *ch = libssh2_channel_open_session(s);
	if (!ch || libssh2_channel_exec(ch, argv[7]) != 0) {
		fprintf(stderr, "exec failed\n");
		return 1;
	}
	fprintf(stderr, "exec \"%s\"\n", argv[7]);
	libssh2_session_set_blocking(s, 0);

	double start = now();
	char buf[4096];
	int prev = -1;
	while (!libssh2_channel_eof(ch) && now() - start < 60) {
		/* sends only when due; says how many seconds until the next is due */
		int next = 0;
		if (libssh2_keepalive_send(s, &next) == 0 && next != prev)
			fprintf(stderr, "libssh2_keepalive_send: next due in %d s\n", next);
		prev = next;
		ssize_t r = libssh2_channel_read(ch, buf, sizeof buf);
		if (r > 0)
			fwrite(buf, 1, r, stdout);
		/* drain stderr too: libssh2_channel_eof waits for it */
		ssize_t e = libssh2_channel_read_stderr(ch, buf, sizeof buf);
		if (e > 0)
			fwrite(buf, 1, e, stdout);
		if (r > 0 || e > 0)
			continue;
		if ((r < 0 && r != LIBSSH2_ERROR_EAGAIN) || (e < 0 && e != LIBSSH2_ERROR_EAGAIN))
			break;
		struct pollfd p = {.fd = sock, .events = POLLIN};
		poll(&p, 1, 100);
	}
	int status = libssh2_channel_get_exit_status(ch);
	fprintf(stderr, "remote command ended: exit status %d\n", status);
	libssh2_session_set_blocking(s, 1);
	libssh2_channel_close(ch);
	libssh2_channel_free(ch);
	libssh2_session_disconnect(s, "bye");
	libssh2_session_free(s);
	close(sock);
	libssh2_exit();
	return 0;
}
