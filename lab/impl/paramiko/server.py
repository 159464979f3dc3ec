#!/usr/bin/python3
"""lab/impl/paramiko/server.py ADDR PORT HOSTKEY AUTHORIZED_KEY INTERVAL SESSION

A paramiko server for the lab (python3-paramiko, Debian 12: 2.12) with its
own keepalive, Transport.set_keepalive(INTERVAL) (0: not at all). It serves
one connection: public-key auth as anyone holding the key in AUTHORIZED_KEY
(one "type base64 comment" line, the lab's authorized_keys), one session
channel whose exec/shell request it accepts and runs nothing; the channel
stays quiet SESSION s, then the server sends exit-status 0 and closes it.
paramiko's own log goes to stderr at DEBUG. lab/scenarios.d/servers.sh runs
it with OpenSSH's ssh -vvv as the client, whose log is the truth.

Bounded: gives up after 60 s.
"""
import base64
import logging
import socket
import sys
import threading
import time

import paramiko


class Server(paramiko.ServerInterface):
    def __init__(self, authorized):
        self.authorized = authorized
        self.started = threading.Event()  # exec or shell request received

    def get_allowed_auths(self, username):
        return "publickey"

    def check_auth_publickey(self, username, key):
        if key.get_name() == self.authorized.get_name() and key.asbytes() == self.authorized.asbytes():
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_channel_request(self, kind, chanid):
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_exec_request(self, channel, command):
        logging.info("lab: exec request %r: running nothing", command)
        self.started.set()
        return True

    def check_channel_shell_request(self, channel):
        logging.info("lab: shell request: running nothing")
        self.started.set()
        return True


def main():
    addr, port, hostkey, authorized, interval, session = sys.argv[1:7]
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG,
                        format="%(levelname)s %(name)s: %(message)s")
    logging.info("lab: paramiko server: paramiko %s, set_keepalive(%s)", paramiko.__version__, interval)
    kt, kb = open(authorized).read().split()[:2]
    pub = paramiko.Ed25519Key(data=base64.b64decode(kb))  # the lab's keys are ed25519
    deadline = time.time() + 60

    ls = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, int(port)))
    ls.listen(1)
    ls.settimeout(30)
    sock, peer = ls.accept()
    ls.close()
    logging.info("lab: connection from %s", peer)

    t = paramiko.Transport(sock)
    t.add_server_key(paramiko.Ed25519Key.from_private_key_file(hostkey))
    srv = Server(pub)
    t.start_server(server=srv)
    if float(interval) > 0:
        # the setting under test: a keepalive@lag.net global request
        # (want_reply 0) after INTERVAL s in which the transport sent nothing
        t.set_keepalive(int(float(interval)))
        logging.info("lab: Transport.set_keepalive(%s)", interval)
    ch = t.accept(20)
    if ch is None or not srv.started.wait(10):
        logging.error("lab: no session channel / no exec request")
        t.close()
        sys.exit(1)
    end = time.time() + float(session)
    while time.time() < end and t.is_active():
        time.sleep(0.1)
    logging.info("lab: session over after %s s: exit-status 0, close", session)
    ch.send_exit_status(0)
    ch.close()
    # wait (bounded) for the client to close the connection
    while t.is_active() and time.time() < deadline:
        time.sleep(0.1)
    t.close()
    logging.info("lab: connection closed")


if __name__ == "__main__":
    main()
