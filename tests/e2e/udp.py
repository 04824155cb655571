#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Exact UDP traffic for the end-to-end tests: a sender that counts what it sent and a sink that
counts what it received. Run inside a network namespace with `ip netns exec`.

  udp.py send --dst IP --ports P[,P...] --count N [--rate PPS] [--until-signal] [--max-seconds S]
      Sends datagrams to IP, packet i to ports[i % len(ports)]. Without --until-signal it sends
      exactly N and exits non-zero if it could not. With --until-signal it sends until SIGTERM,
      N packets or S seconds, whichever comes first. Prints one JSON line:
      {"sent": {"PORT": n, ...}, "total": n, "stopped_by": "count"|"signal"|"time", "seconds": s}

  udp.py sink --bind IP --port P --ready FILE --result FILE [--max-seconds S]
      Counts datagrams until SIGTERM (or S seconds), then writes "RECEIVED DROPS" to the result
      file, DROPS being the kernel's count of datagrams this socket lost to a full receive
      buffer: a non-zero value means the test's receiver was too slow, not that a probe dropped.
"""
import argparse
import errno
import json
import os
import signal
import socket
import sys
import time

stop = False


def on_term(signum, frame):
    global stop
    stop = True


def send(args):
    ports = [int(p) for p in args.ports.split(",")]
    sent = {p: 0 for p in ports}
    payload = b"dynmon-e2e"
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    start = time.monotonic()
    deadline = start + args.max_seconds
    total = 0
    stopped_by = "count"
    while total < args.count:
        if args.until_signal and stop:
            stopped_by = "signal"
            break
        now = time.monotonic()
        if now > deadline:
            stopped_by = "time"
            break
        if args.rate and total >= (now - start) * args.rate:
            time.sleep(0.001)
            continue
        port = ports[total % len(ports)]
        try:
            sock.sendto(payload, (args.dst, port))
        except OSError as e:
            # A full device queue: retry the same packet, it is not counted as sent.
            if e.errno in (errno.ENOBUFS, errno.EAGAIN):
                time.sleep(0.0001)
                continue
            raise
        sent[port] += 1
        total += 1
    result = {
        "sent": {str(p): n for p, n in sent.items()},
        "total": total,
        "stopped_by": stopped_by,
        "seconds": round(time.monotonic() - start, 3),
    }
    print(json.dumps(result), flush=True)
    if not args.until_signal and total != args.count:
        return 1
    return 0


def socket_drops(port):
    """The drops column of /proc/net/udp for our bound port (this namespace's table)."""
    with open("/proc/net/udp") as f:
        next(f)
        for line in f:
            fields = line.split()
            if int(fields[1].split(":")[1], 16) == port:
                return int(fields[-1])
    return -1


def sink(args):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        # SO_RCVBUFFORCE (33) lets root pass net.core.rmem_max; Python does not name it.
        sock.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), 64 << 20)
    except PermissionError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 << 20)
    sock.bind((args.bind, args.port))
    sock.settimeout(0.1)
    with open(args.ready, "w") as f:
        f.write("ready\n")
    deadline = time.monotonic() + args.max_seconds
    received = 0
    buf = bytearray(2048)
    while not stop and time.monotonic() < deadline:
        try:
            sock.recv_into(buf)
            received += 1
        except socket.timeout:
            pass
    # Whatever is still queued arrived before we were told to stop.
    sock.setblocking(False)
    while True:
        try:
            sock.recv_into(buf)
            received += 1
        except BlockingIOError:
            break
    drops = socket_drops(args.port)
    tmp = args.result + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{received} {drops}\n")
    os.rename(tmp, args.result)
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send")
    s.add_argument("--dst", required=True)
    s.add_argument("--ports", required=True)
    s.add_argument("--count", type=int, required=True)
    s.add_argument("--rate", type=float, default=0)
    s.add_argument("--until-signal", action="store_true")
    s.add_argument("--max-seconds", type=float, default=60)
    k = sub.add_parser("sink")
    k.add_argument("--bind", required=True)
    k.add_argument("--port", type=int, required=True)
    k.add_argument("--ready", required=True)
    k.add_argument("--result", required=True)
    k.add_argument("--max-seconds", type=float, default=600)
    args = p.parse_args()
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    return send(args) if args.cmd == "send" else sink(args)


if __name__ == "__main__":
    sys.exit(main())
