/*
 * lab/impl/libssh/client.c: a lab SSH client on libssh 0.10, which has no
 * keepalive timer of its own: like the programs that use it, it calls
 * ssh_send_keepalive() on a timer of its own (every INTERVAL s) while a
 * remote command runs, and logs each call to stderr. lab/scenarios.d/impl2.sh
 * runs it against a throwaway OpenSSH sshd whose DEBUG3 log is the truth.
 *
 *   client HOST PORT KEY INTERVAL 'REMOTE COMMAND'
 *
 * Bounded: gives up after 60 s. Host key not checked (lab namespaces only).
 */
#include <libssh/libssh.h>
#include <libssh/server.h> /* declares ssh_send_keepalive (not server-only) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: client HOST PORT KEY INTERVAL COMMAND\n");
		return 2;
	}
	unsigned int port = atoi(argv[2]);
	double interval = atof(argv[4]);
	fprintf(stderr, "libssh client: libssh %s, ssh_send_keepalive every %.1f s\n", ssh_version(0), interval);

	ssh_session s = ssh_new();
	ssh_options_set(s, SSH_OPTIONS_HOST, argv[1]);
	ssh_options_set(s, SSH_OPTIONS_PORT, &port);
	ssh_options_set(s, SSH_OPTIONS_USER, "root");
	if (ssh_connect(s) != SSH_OK) {
		fprintf(stderr, "connect: %s\n", ssh_get_error(s));
		return 1;
	}
	fprintf(stderr, "connected: server %s\n", ssh_get_serverbanner(s));
	ssh_key key;
	if (ssh_pki_import_privkey_file(argv[3], NULL, NULL, NULL, &key) != SSH_OK ||
	    ssh_userauth_publickey(s, NULL, key) != SSH_AUTH_SUCCESS) {
		fprintf(stderr, "auth: %s\n", ssh_get_error(s));
		return 1;
	}
	ssh_channel ch = ssh_channel_new(s);
	if (ssh_channel_open_session(ch) != SSH_OK || ssh_channel_request_exec(ch, argv[5]) != SSH_OK) {
		fprintf(stderr, "exec: %s\n", ssh_get_error(s));
		return 1;
	}
	fprintf(stderr, "exec \"%s\"\n", argv[5]);

	double start = now(), next = start + interval;
	char buf[4096];
	int n = 0;
	while (!ssh_channel_is_eof(ch) && now() - start < 60) {
		/* reads also process the server's replies to the keepalives */
		int r = ssh_channel_read_timeout(ch, buf, sizeof buf, 0, 100);
		if (r == SSH_ERROR)
			break;
		if (r > 0)
			fwrite(buf, 1, r, stdout);
		/* drain stderr too: is_eof stays false while it holds data */
		r = ssh_channel_read_nonblocking(ch, buf, sizeof buf, 1);
		if (r > 0)
			fwrite(buf, 1, r, stdout);
		if (now() >= next) {
			fprintf(stderr, "keepalive %d: ssh_send_keepalive\n", ++n);
			if (ssh_send_keepalive(s) != SSH_OK)
				fprintf(stderr, "keepalive %d: %s\n", n, ssh_get_error(s));
			next += interval;
		}
	}
	fprintf(stderr, "remote command ended: exit status %d\n", ssh_channel_get_exit_status(ch));
	ssh_channel_close(ch);
	ssh_channel_free(ch);
	ssh_key_free(key);
	ssh_disconnect(s);
	ssh_free(s);
	return 0;
}
