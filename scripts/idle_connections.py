#!/usr/bin/env python3
"""Opens COUNT TLS connections to an HTTPS server, sends one keep-alive GET on each and keeps them
open and idle (scripts/bench-connections.sh). Prints "open N" once all N are idle, then waits until
stdin closes (or SIGTERM) and closes them. Standard library only.

usage: idle_connections.py HOST PORT CA_FILE COUNT [--concurrency C] [--path /healthz]
"""
from __future__ import annotations

import argparse
import asyncio
import ssl
import sys


async def open_one(host: str, port: int, ctx: ssl.SSLContext, path: str, gate: asyncio.Semaphore):
    async with gate:
        reader, writer = await asyncio.open_connection(host, port, ssl=ctx, server_hostname=host)
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: keep-alive\r\n\r\n".encode())
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status = head.split(b" ", 2)[1]
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        if length:
            await reader.readexactly(length)
        if status != b"200":
            raise RuntimeError(f"HTTP {status.decode()}")
        return reader, writer


async def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("ca_file")
    p.add_argument("count", type=int)
    p.add_argument("--concurrency", type=int, default=200)
    p.add_argument("--path", default="/healthz")
    a = p.parse_args()
    ctx = ssl.create_default_context(cafile=a.ca_file)
    gate = asyncio.Semaphore(a.concurrency)
    results = await asyncio.gather(*(open_one(a.host, a.port, ctx, a.path, gate) for _ in range(a.count)),
                                   return_exceptions=True)
    conns = [r for r in results if not isinstance(r, BaseException)]
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        print(f"failed {len(failures)}: {failures[0]!r}", file=sys.stderr, flush=True)
    print(f"open {len(conns)}", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the caller closes our stdin
    for _, w in conns:
        w.close()
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
