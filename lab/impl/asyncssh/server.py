#!/usr/bin/python3
"""lab/impl/asyncssh/server.py: a lab SSH server on AsyncSSH (Debian's
python3-asyncssh) with its own keepalive, asyncssh.create_server(...,
keepalive_interval=INTERVAL). It serves one connection: public-key auth from an
authorized_keys file, a session whose command stays quiet for SESSION s, then
exits with exit-status 0. Logs (AsyncSSH debug level 2) go to stderr;
lab/scenarios.d/impl2.sh runs it with OpenSSH's ssh -vvv as the client, whose
log is the truth.

  server.py ADDR PORT HOSTKEY AUTHORIZED_KEYS INTERVAL SESSION

Bounded: exits when the connection closes, or after 60 s.
"""
import asyncio
import logging
import sys

import asyncssh


async def main(addr, port, hostkey, authorized, interval, session):
    closed = asyncio.Event()

    class Server(asyncssh.SSHServer):
        def connection_lost(self, exc):
            logging.info("connection closed: %s", exc)
            closed.set()

    async def handle(process):
        logging.info("session command %r: running for %s s", process.command, session)
        await asyncio.sleep(session)
        process.exit(0)

    server = await asyncssh.create_server(
        Server, addr, port, server_host_keys=[hostkey],
        authorized_client_keys=authorized, keepalive_interval=interval,
        process_factory=handle)
    logging.info("listening on %s:%d", addr, port)
    await closed.wait()
    server.close()


if __name__ == "__main__":
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG,
                        format="%(levelname)s %(name)s %(message)s")
    asyncssh.set_debug_level(2)
    logging.info("asyncssh server: AsyncSSH %s, keepalive_interval=%s",
                 asyncssh.__version__, sys.argv[5])
    asyncio.run(asyncio.wait_for(
        main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4],
             float(sys.argv[5]), float(sys.argv[6])), 60))
