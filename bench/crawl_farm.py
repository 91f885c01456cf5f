#!/usr/bin/env python3
"""A link farm for bench/crawl.sh (D): /hub links to /f/0 .. /f/{N-1}; each
/f/k links to 1 000 URLs /u/k/0 .. /u/k/999 found nowhere else; /u/... is a
tiny page. Loopback only.  python3 bench/crawl_farm.py PORT N"""
import asyncio
import sys

PORT, N = int(sys.argv[1]), int(sys.argv[2])


def body(path):
    if path == "/hub":
        links = "".join(f'<a href="/f/{k}">f</a>' for k in range(N))
    elif path.startswith("/f/"):
        k = path[3:]
        links = "".join(f'<a href="/u/{k}/{j}">u</a>' for j in range(1000))
    else:
        links = ""
    return f"<html><head><title>farm</title></head><body>{links}</body></html>".encode()


async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ", 2)[1].decode()
            b = body(path)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(b) + b)
            await writer.drain()
    except Exception:
        writer.close()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", PORT)
    print("READY", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
