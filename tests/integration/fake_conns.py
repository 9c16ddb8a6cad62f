#!/usr/bin/python3
"""A stand-in for tapird's control socket with a large flow table, for `tapirctl top`.

    fake_conns.py SOCKET N [GROW]

Listens on the Unix socket SOCKET and answers, one request per connection as tapirctl asks,
"stats" and "conns" with N synthetic TCP flows in tapird's reply format (compact JSON, one
line): no namespace, no traffic, and a reply as large as a busy host's (N = 50000 makes a
conns reply of ~24 MB). Each flow's bytes are fixed, so that top's rates are all 0 and its
output is the same from run to run (but for the clock and the sample time), unless GROW is
given: then every conns reply adds GROW * (id % 97) bytes each way to each flow, so that the
busiest flows by rate are the ones with id % 97 == 96 (and the stats counters grow too).
Anything else gets a GenericError.
Prints "listening" once the socket is there; runs until killed.
"""
import json
import os
import socket
import sys

STATES = ["ESTABLISHED"] * 6 + ["TIME_WAIT", "CLOSE_WAIT", "FIN_WAIT_2", "SYN_RCVD"]


def flow(i, grow):
    """flow i (ids from 1) as tapird writes it, bytes grown by @grow per id class"""
    fid = i + 1
    extra = grow * (fid % 97)
    return {
        "id": fid, "link": "bigtable-%d" % (fid % 3), "proto": "tcp",
        "state": STATES[fid % len(STATES)], "origin": "container",
        "container": "10.0.2.100:%d" % (10000 + fid % 50000),
        "peer": "10.0.2.2:%d" % (8000 + fid % 7), "upstream": "127.0.0.1:%d" % (8000 + fid % 7),
        "age_ms": fid * 37 % 9000000, "idle_ms": fid % 1000,
        "bytes": {"from_container": fid * 7919 % 1000003 + extra,
                  "to_container": fid * 104729 % 30000001 + extra},
        "tcp": {"snd_una": 1, "snd_nxt": 1, "snd_wnd": 65535, "rcv_nxt": 1, "rcv_wnd": 65535,
                "mss": 65480, "wscale": [7, 7], "srtt_us": 40, "rto_ms": 200,
                "retransmits": 0},
        "history": [{"state": "SYN_RCVD", "at_ms": 0}, {"state": "ESTABLISHED", "at_ms": 1}],
    }


def main():
    path, n = sys.argv[1], int(sys.argv[2])
    grow = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    by_state = {}
    for i in range(n):
        s = STATES[(i + 1) % len(STATES)]
        by_state[s] = by_state.get(s, 0) + 1
    polls = 0
    fixed = None if grow else json.dumps(
        {"return": {"flows": [flow(i, 0) for i in range(n)]}}, separators=(",", ":"))
    if os.path.exists(path):
        os.unlink(path)
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(8)
    print("listening", flush=True)
    while True:
        c, _ = srv.accept()
        buf = b""
        while b"\n" not in buf:
            d = c.recv(65536)
            if not d:
                break
            buf += d
        try:
            cmd = json.loads(buf.split(b"\n")[0]).get("execute")
        except ValueError:
            cmd = None
        if cmd == "stats":
            k = polls if grow else 0
            tot = {"counters": {"flows_opened": n + 10 * k, "rx_frames": 1000 * k,
                                "tx_frames": 900 * k, "rx_bytes": 65536 * k,
                                "tx_bytes": 32768 * k},
                   "flows": {"total": n, "by_state": by_state}}
            out = json.dumps({"return": {"links": [], "total": tot}}, separators=(",", ":"))
        elif cmd == "conns":
            polls += 1
            out = fixed or json.dumps(
                {"return": {"flows": [flow(i, grow * polls) for i in range(n)]}},
                separators=(",", ":"))
        else:
            out = json.dumps({"error": {"class": "GenericError", "desc": "not faked"}})
        try:
            c.sendall(out.encode() + b"\n")
        except OSError:
            pass
        c.close()


if __name__ == "__main__":
    main()
