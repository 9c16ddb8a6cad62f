#!/usr/bin/python3
"""Bulk transfers checked end to end by SHA-256, both ends of one line protocol.

    xfer.py serve ADDR PORT          a server (threads, forever); prints "ready" once listening
    xfer.py HOST PORT PUT|GET N      a client: prints "PUT N ok" / "GET N ok" (else MISMATCH),
                                     exits 0 only if every byte was right

A client sends one line, "CMD N\\n":
  PUT N: it then sends N pattern bytes and shuts down its side; the server reads to EOF and
         only then answers "COUNT SHA256HEX\\n" of what it read (so a half-close is checked too)
  GET N: the server sends N pattern bytes and closes
  WHO 0: the server answers the client's address as it saw it, one line
The pattern is the same 64 KiB block over and over: byte i of the block is (i*7 + i/256) & 0xff.
test_ipv6.sh runs the server on the host (::1) and in the container, the client on the other
side of tapird.
"""
import hashlib
import socket
import sys
import threading

BLOCK = bytes((i * 7 + (i >> 8)) & 0xff for i in range(65536))


def pattern(n):
    """the first @n bytes of the pattern, a block at a time"""
    while n > 0:
        yield BLOCK[:min(n, len(BLOCK))]
        n -= len(BLOCK)


def pattern_hash(n):
    h = hashlib.sha256()
    for b in pattern(n):
        h.update(b)
    return h.hexdigest()


def read_line(s):
    """bytes from @s up to and with a newline; None if the peer closed first"""
    line = b""
    while not line.endswith(b"\n"):
        x = s.recv(1)
        if not x:
            return None
        line += x
    return line


def read_hash(s):
    """everything from @s up to its EOF: (byte count, SHA-256 hex of the bytes)"""
    h, got = hashlib.sha256(), 0
    while True:
        x = s.recv(1 << 20)
        if not x:
            return got, h.hexdigest()
        h.update(x)
        got += len(x)


def serve_client(c):
    with c:
        line = read_line(c)
        if line is None:
            return
        cmd, n = line.split()
        if cmd == b"WHO":
            c.sendall(c.getpeername()[0].encode() + b"\n")
        elif cmd == b"PUT":
            got, digest = read_hash(c)
            c.sendall(b"%d %s\n" % (got, digest.encode()))
        else:
            for b in pattern(int(n)):
                c.sendall(b)


def serve(addr, port):
    s = socket.socket(socket.AF_INET6)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(16)
    print("ready", flush=True)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve_client, args=(c,), daemon=True).start()


def client(host, port, mode, n):
    s = socket.create_connection((host, port), timeout=30)
    if mode == "PUT":
        s.sendall(b"PUT %d\n" % n)
        for b in pattern(n):
            s.sendall(b)
        s.shutdown(socket.SHUT_WR)
        got, digest = (read_line(s) or b"-1 none").split()
        ok = int(got) == n and digest.decode() == pattern_hash(n)
        print("PUT", int(got), "ok" if ok else "MISMATCH")
    else:
        s.sendall(b"GET %d\n" % n)
        got, digest = read_hash(s)
        ok = got == n and digest == pattern_hash(n)
        print("GET", got, "ok" if ok else "MISMATCH")
    return ok


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]))
    sys.exit(0 if client(sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])) else 1)
