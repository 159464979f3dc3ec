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

from client import connect, pump  # the same directory: python puts it on sys.path


def main():
    host, port, key, hostkey_pub, interval, every, send_for, idle = sys.argv[1:9]
    every, send_for, idle = float(every), float(send_for), float(idle)
    t = connect(host, port, key, hostkey_pub, interval)
    ch = t.open_session()
    ch.exec_command("cat")
    t0 = time.time()
    sent = {"lines": 0, "eof": False}

    def tick(now):
        n = sent["lines"]
        if n * every < send_for and now >= t0 + n * every:
            sent["lines"] = n + 1
            ch.send(("line %d\n" % (n + 1)).encode())
            print("lab: sent line %d" % (n + 1), file=sys.stderr, flush=True)
        elif not sent["eof"] and now >= t0 + send_for + idle:
            ch.shutdown_write()
            sent["eof"] = True
            print("lab: sent EOF", file=sys.stderr, flush=True)

    sys.exit(pump(t, ch, 60, 0.01, tick))


if __name__ == "__main__":
    main()
