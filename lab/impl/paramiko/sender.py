#!/usr/bin/python3
"""lab/impl/paramiko/sender.py HOST PORT KEY HOSTKEY_PUB INTERVAL EVERY SEND_FOR IDLE

A paramiko client for the lab (python3-paramiko, Debian 12: 2.12), like
client.py: connects as root with the lab's ed25519 key, checks the server's
host key, calls Transport.set_keepalive(INTERVAL), runs "cat" (no pty), then
sends a line every EVERY s for SEND_FOR s, sends nothing for IDLE s, and sends
EOF; copies cat's output to stdout and exits with its exit status. Each line
it sends is logged to stderr ("lab: sent line N"). paramiko's own log goes to
stderr at DEBUG. Bounded: it gives up after 60 s.
"""
import sys
import time

from client import connect  # the same directory: python puts it on sys.path


def main():
    host, port, key, hostkey_pub, interval, every, send_for, idle = sys.argv[1:9]
    every, send_for, idle = float(every), float(send_for), float(idle)
    t = connect(host, port, key, hostkey_pub, interval)
    ch = t.open_session()
    ch.exec_command("cat")
    t0 = time.time()
    deadline = t0 + 60
    n = 0
    eof = False
    while time.time() < deadline:
        now = time.time()
        if n * every < send_for and now >= t0 + n * every:
            n += 1
            ch.send(("line %d\n" % n).encode())
            print("lab: sent line %d" % n, file=sys.stderr, flush=True)
        elif not eof and now >= t0 + send_for + idle:
            ch.shutdown_write()
            eof = True
            print("lab: sent EOF", file=sys.stderr, flush=True)
        if ch.recv_ready():
            sys.stdout.write(ch.recv(4096).decode(errors="replace"))
            sys.stdout.flush()
        elif ch.exit_status_ready():
            break
        else:
            time.sleep(0.01)
    rc = ch.recv_exit_status() if ch.exit_status_ready() else 124
    print("lab: exit status %d" % rc, file=sys.stderr, flush=True)
    client.close()
    sys.exit(rc)


if __name__ == "__main__":
    main()
