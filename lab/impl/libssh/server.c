/*
 * lab/impl/libssh/server.c: a lab SSH server on libssh 0.10, which has no
 * keepalive timer of its own: like the programs that use it, it calls
 * ssh_send_keepalive() (a global request keepalive@openssh.com, want_reply
 * 1, waited for) on a timer of its own (every INTERVAL s) while a session
 * is open, and logs each call to stderr. It serves one connection:
 * public-key auth with the key in AUTHORIZED_KEY (one "type base64 comment"
 * line, the lab's authorized_keys), one session channel whose exec/shell
 * request it accepts and runs nothing; after SESSION s it sends exit-status
 * 0, EOF and CLOSE. lab/scenarios.d/servers.sh runs it with OpenSSH's
 * ssh -vvv as the client, whose log is the truth.
 *
 *   server ADDR PORT HOSTKEY AUTHORIZED_KEY INTERVAL SESSION
 *
 * Bounded: every wait is; the whole run takes under 60 s. Uses the message
 * API (ssh_message_get), deprecated in 0.10 for callbacks but the shortest.
 */
#include <libssh/libssh.h>
#include <libssh/server.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
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
	if (argc != 7) {
		fprintf(stderr, "usage: server ADDR PORT HOSTKEY AUTHORIZED_KEY INTERVAL SESSION\n");
		return 2;
	}
	double interval = atof(argv[5]), session = atof(argv[6]);
	fprintf(stderr, "libssh server: libssh %s, ssh_send_keepalive every %.1f s\n", ssh_version(0), interval);
	ssh_key authorized;
	if (ssh_pki_import_pubkey_file(argv[4], &authorized) != SSH_OK) {
		fprintf(stderr, "cannot read %s\n", argv[4]);
		return 1;
	}

	ssh_bind b = ssh_bind_new();
	ssh_bind_options_set(b, SSH_BIND_OPTIONS_BINDADDR, argv[1]);
	ssh_bind_options_set(b, SSH_BIND_OPTIONS_BINDPORT_STR, argv[2]);
	ssh_bind_options_set(b, SSH_BIND_OPTIONS_HOSTKEY, argv[3]);
	if (ssh_bind_listen(b) != SSH_OK) {
		fprintf(stderr, "listen: %s\n", ssh_get_error(b));
		return 1;
	}
	fprintf(stderr, "listening on %s:%s\n", argv[1], argv[2]);
	ssh_session s = ssh_new();
	long timeout = 10; /* seconds, for every blocking call below */
	if (ssh_bind_accept(b, s) != SSH_OK) {
		fprintf(stderr, "accept: %s\n", ssh_get_error(b));
		return 1;
	}
	ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout);
	if (ssh_handle_key_exchange(s) != SSH_OK) {
		fprintf(stderr, "key exchange: %s\n", ssh_get_error(s));
		return 1;
	}
	fprintf(stderr, "key exchange done: client %s\n", ssh_get_clientbanner(s));

	/* auth, channel open, exec: libssh's message API (anything else
	 * gets the default reply, a failure) */
	ssh_channel ch = NULL;
	int started = 0;
	double t0 = now();
	while (!started && now() - t0 < 20) {
		ssh_message m = ssh_message_get(s);
		if (m == NULL) {
			fprintf(stderr, "connection lost before the session started: %s\n", ssh_get_error(s));
			return 1;
		}
		int type = ssh_message_type(m), sub = ssh_message_subtype(m);
		if (type == SSH_REQUEST_AUTH && sub == SSH_AUTH_METHOD_PUBLICKEY &&
		    ssh_key_cmp(ssh_message_auth_pubkey(m), authorized, SSH_KEY_CMP_PUBLIC) == 0) {
			if (ssh_message_auth_publickey_state(m) == SSH_PUBLICKEY_STATE_VALID) {
				fprintf(stderr, "auth: publickey accepted for %s\n", ssh_message_auth_user(m));
				ssh_message_auth_reply_success(m, 0);
			} else {
				ssh_message_auth_reply_pk_ok_simple(m); /* the key query */
			}
		} else if (type == SSH_REQUEST_AUTH) {
			ssh_message_auth_set_methods(m, SSH_AUTH_METHOD_PUBLICKEY);
			ssh_message_reply_default(m);
		} else if (type == SSH_REQUEST_CHANNEL_OPEN && sub == SSH_CHANNEL_SESSION && ch == NULL) {
			ch = ssh_message_channel_request_open_reply_accept(m);
		} else if (type == SSH_REQUEST_CHANNEL && ch != NULL &&
			   (sub == SSH_CHANNEL_REQUEST_EXEC || sub == SSH_CHANNEL_REQUEST_SHELL)) {
			fprintf(stderr, "%s request \"%s\": running nothing for %.1f s\n",
				sub == SSH_CHANNEL_REQUEST_EXEC ? "exec" : "shell",
				sub == SSH_CHANNEL_REQUEST_EXEC ? ssh_message_channel_request_command(m) : "",
				session);
			ssh_message_channel_request_reply_success(m);
			started = 1;
		} else {
			ssh_message_reply_default(m);
		}
		ssh_message_free(m);
	}
	if (!started) {
		fprintf(stderr, "no session started\n");
		return 1;
	}

	/* the session: quiet for SESSION s, a keepalive every INTERVAL s.
	 * ssh_send_keepalive waits for the client's reply (REQUEST_FAILURE
	 * from OpenSSH) itself. */
	double start = now(), next = start + interval;
	char buf[4096];
	int n = 0;
	while (now() - start < session && ssh_is_connected(s)) {
		if (!ssh_channel_is_eof(ch)) {
			/* reads process whatever the client sends (its EOF) */
			if (ssh_channel_read_timeout(ch, buf, sizeof buf, 0, 100) == SSH_ERROR)
				break;
		} else {
			usleep(100000); /* the client sent EOF: a read would return at once */
		}
		if (interval > 0 && now() >= next) {
			fprintf(stderr, "keepalive %d: ssh_send_keepalive\n", ++n);
			if (ssh_send_keepalive(s) != SSH_OK)
				fprintf(stderr, "keepalive %d: %s\n", n, ssh_get_error(s));
			next += interval;
		}
	}
	fprintf(stderr, "session over after %.1f s: exit-status 0, EOF, close\n", now() - start);
	ssh_channel_request_send_exit_status(ch, 0);
	ssh_channel_send_eof(ch);
	ssh_channel_close(ch);

	/* let the client close first: read (and drop) what it still sends,
	 * its CHANNEL_CLOSE, until its FIN (bounded: 5 s), then close the
	 * socket without a DISCONNECT message (closing with unread data
	 * would send a RST) */
	struct pollfd p = {.fd = ssh_get_fd(s), .events = POLLIN};
	for (t0 = now(); now() - t0 < 5 && poll(&p, 1, 500) >= 0;)
		if ((p.revents & (POLLIN | POLLHUP)) && read(p.fd, buf, sizeof buf) <= 0)
			break;
	ssh_channel_free(ch);
	ssh_silent_disconnect(s);
	ssh_free(s);
	ssh_bind_free(b);
	ssh_key_free(authorized);
	fprintf(stderr, "connection closed\n");
	return 0;
}
