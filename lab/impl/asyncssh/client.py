#!/usr/bin/python3
"""lab/impl/asyncssh/client.py: a lab SSH client on AsyncSSH (Debian's
python3-asyncssh) with its own keepalive, keepalive_interval=INTERVAL: it runs
one remote command and logs (AsyncSSH debug level 2) to stderr, including
"Sending keepalive request" / "Got keepalive response". lab/scenarios.d/impl2.sh
runs it against a throwaway OpenSSH sshd whose DEBUG3 log is the truth.

  client.py HOST PORT KEY INTERVAL COMPRESSION 'REMOTE COMMAND'

COMPRESSION "default" leaves AsyncSSH's offer (zlib@openssh.com first), "none"
passes compression_algs=None. Host key not checked (lab namespaces only).
Bounded: gives up after 60 s.
"""
import asyncio
import logging
import sys

import asyncssh


async def main(host, port, key, interval, compression, command):
    opts = {}
    if compression == "none":
        opts["compression_algs"] = None
    async with asyncssh.connect(host, port, username="root", client_keys=[key],
                                known_hosts=None, keepalive_interval=interval,
                                **opts) as conn:
        logging.info("connected: server %s", conn.get_extra_info("server_version"))
        result = await conn.run(command)
        logging.info("remote command ended: exit status %s, %d bytes of output",
                     result.exit_status, len(result.stdout or ""))


if __name__ == "__main__":
    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG,
                        format="%(levelname)s %(name)s %(message)s")
    asyncssh.set_debug_level(2)
    logging.info("asyncssh client: AsyncSSH %s, keepalive_interval=%s, compression %s",
                 asyncssh.__version__, sys.argv[4], sys.argv[5])
    asyncio.run(asyncio.wait_for(
        main(sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]),
             sys.argv[5], sys.argv[6]), 60))
