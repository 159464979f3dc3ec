#!/usr/bin/python3
"""lab/impl/paramiko/client.py HOST PORT KEY HOSTKEY_PUB INTERVAL COMMAND

A paramiko client for the lab (python3-paramiko, Debian 12: 2.12): connects
as root with the lab's ed25519 key, checks the server's host key against the
lab's public host key, calls Transport.set_keepalive(INTERVAL) (0: not at
all), runs COMMAND in a session channel, copies its output to stdout and
exits with its exit status. paramiko's own log goes to stderr at DEBUG.
Bounded: it gives up after 120 s.
"""
import logging
import sys
import time

import paramiko


def connect(host, port, key, hostkey_pub, interval):
    """Connects as root with key, trusting only hostkey_pub, logs paramiko at
    DEBUG and both versions, sets Transport.set_keepalive(interval) when
    interval > 0, and returns the transport (sender.py shares it)."""
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG,
                        format="%(levelname)s %(name)s: %(message)s")
    kt, kb = open(hostkey_pub).read().split()[:2]
    client = paramiko.SSHClient()
    client.get_host_keys().add("[%s]:%s" % (host, port) if port != "22" else host,
                               kt, paramiko.Ed25519Key(data=paramiko.py3compat.decodebytes(kb.encode())))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect(host, port=int(port), username="root",
                   key_filename=key, allow_agent=False, look_for_keys=False, timeout=10)
    t = client.get_transport()
    print("lab: remote version %s, local version %s" % (t.remote_version, t.local_version),
          file=sys.stderr, flush=True)
    if float(interval) > 0:
        t.set_keepalive(int(float(interval)))
        print("lab: Transport.set_keepalive(%s)" % interval, file=sys.stderr, flush=True)
    return t


def pump(t, ch, seconds, poll, tick=None):
    """Copies the channel's output to stdout until the command exits or
    seconds pass, calling tick(now) first each round (sender.py sends from
    it); closes the transport and returns the exit status (124: gave up)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if tick:
            tick(time.time())
        if ch.recv_ready():
            sys.stdout.write(ch.recv(4096).decode(errors="replace"))
            sys.stdout.flush()
        elif ch.exit_status_ready():
            break
        else:
            time.sleep(poll)
    rc = ch.recv_exit_status() if ch.exit_status_ready() else 124
    print("lab: exit status %d" % rc, file=sys.stderr, flush=True)
    t.close()
    return rc


def main():
    host, port, key, hostkey_pub, interval, command = sys.argv[1:7]
    t = connect(host, port, key, hostkey_pub, interval)
    ch = t.open_session()
    ch.exec_command(command)
    sys.exit(pump(t, ch, 120, 0.05))


if __name__ == "__main__":
    main()
