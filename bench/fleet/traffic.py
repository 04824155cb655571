#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The fleet's traffic, from the hub namespace: UDP datagrams to every host, from SOCKETS
source ports to PORTS destination ports (SOCKETS x PORTS flows per host), at about RATE
datagrams per second in all, until SIGTERM or SECONDS.

  traffic.py --hosts IP[,IP...] [--sockets 32] [--ports 32] [--rate 2000] [--seconds 600]
"""
import argparse
import signal
import socket
import time

stop = False


def on_term(signum, frame):
    global stop
    stop = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", required=True)
    ap.add_argument("--sockets", type=int, default=32)
    ap.add_argument("--ports", type=int, default=32)
    ap.add_argument("--rate", type=float, default=2000)
    ap.add_argument("--seconds", type=float, default=600)
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, on_term)
    hosts = a.hosts.split(",")
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(a.sockets)]
    for s in socks:
        s.setblocking(False)
    payload = b"x" * 64
    start = time.monotonic()
    sent = 0
    while not stop and time.monotonic() - start < a.seconds:
        for port in range(a.ports):
            for s in socks:
                for h in hosts:
                    try:
                        s.sendto(payload, (h, 20000 + port))
                    except OSError:
                        pass
                    sent += 1
            # pace: sleep off what is ahead of the rate
            ahead = sent / a.rate - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)
            if stop:
                break
    print(sent)


if __name__ == "__main__":
    main()
