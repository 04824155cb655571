#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Exact traffic of chosen sizes for the end-to-end tests. Run inside a network namespace with
`ip netns exec`. Every packet is sent one after the other, so they cross the veth in order.

  udpmix.py udp --dst IP --ports P[,P...] --sizes S[,S...] --count N [--src IP]
      Sends exactly N datagrams to IP, datagram i to ports[i % len(ports)] with
      sizes[i % len(sizes)] bytes of payload (its Ethernet frame: 14 + 20 + 8 + size bytes),
      from address --src if given. Exits non-zero if it could not send them all.

  udpmix.py tcp-refused --dst IP --port P --count N
      Makes N connection attempts to a port where nothing listens: each is one SYN answered by
      one RST. Exits non-zero if an attempt ends any other way than "connection refused".

Both print one JSON line: {"sent": n} or {"refused": n}.
"""
import argparse
import errno
import json
import socket
import sys
import time


def udp(args):
    ports = [int(p) for p in args.ports.split(",")]
    sizes = [int(s) for s in args.sizes.split(",")]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if args.src:
        sock.bind((args.src, 0))
    sent = 0
    while sent < args.count:
        payload = b"d" * sizes[sent % len(sizes)]
        try:
            sock.sendto(payload, (args.dst, ports[sent % len(ports)]))
        except OSError as e:
            # A full device queue: the same datagram again, it was not sent.
            if e.errno in (errno.ENOBUFS, errno.EAGAIN):
                time.sleep(0.0001)
                continue
            raise
        sent += 1
    print(json.dumps({"sent": sent}), flush=True)
    return 0


def tcp_refused(args):
    refused = 0
    for _ in range(args.count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(5)
        try:
            sock.connect((args.dst, args.port))
        except ConnectionRefusedError:
            refused += 1
        finally:
            sock.close()
    print(json.dumps({"refused": refused}), flush=True)
    return 0 if refused == args.count else 1


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    u = sub.add_parser("udp")
    u.add_argument("--dst", required=True)
    u.add_argument("--ports", required=True)
    u.add_argument("--sizes", required=True)
    u.add_argument("--count", type=int, required=True)
    u.add_argument("--src")
    t = sub.add_parser("tcp-refused")
    t.add_argument("--dst", required=True)
    t.add_argument("--port", type=int, required=True)
    t.add_argument("--count", type=int, required=True)
    args = p.parse_args()
    return udp(args) if args.cmd == "udp" else tcp_refused(args)


if __name__ == "__main__":
    sys.exit(main())
