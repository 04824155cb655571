#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A mix of exact traffic for the tests of the upstream NTP probes: NTP datagrams of given modes,
other UDP, and bare TCP segments. Run inside a network namespace with `ip netns exec`; root is
needed for source port 123 and for TCP (a raw socket).

  ntp.py send --dst IP [--ntp MODE:SPORT:DPORT:COUNT[:LEN]]... [--udp SPORT:DPORT:COUNT]...
              [--tcp DPORT:COUNT]...

  --ntp   COUNT datagrams whose payload is an NTP header: LEN bytes (48 by default, the size of
          an NTPv4 header without extensions), the first one li_vn_mode = (0 << 6) | (4 << 3) |
          MODE, the rest zero but a transmit timestamp. A LEN below 48 gives a truncated header.
  --udp   COUNT datagrams of 10 bytes that are not NTP (unless a port is 123: the caller's word).
  --tcp   COUNT TCP SYN segments, written by hand on a raw socket, so that the kernel sends
          exactly one segment each and no retransmission (nothing here waits for an answer).

SPORT 0 means a port of the kernel's choosing. Prints one JSON line with what was sent per
option, in order, and exits non-zero unless every packet left.
"""
import argparse
import errno
import json
import socket
import struct
import sys
import time

NTP_HEADER_LEN = 48
NTP_VERSION = 4


def ntp_payload(mode, length, seq):
    li_vn_mode = (0 << 6) | (NTP_VERSION << 3) | mode
    header = bytearray(NTP_HEADER_LEN)
    header[0] = li_vn_mode
    struct.pack_into("!II", header, 40, 0xE0000000 + seq, 0)  # transmit timestamp
    header.extend(bytes(max(0, length - NTP_HEADER_LEN)))
    return bytes(header[:length])


def sendto_all(sock, payloads, dst):
    """Sends every payload; a full device queue is retried, never counted as sent."""
    sent = 0
    for payload in payloads:
        while True:
            try:
                sock.sendto(payload, dst)
                break
            except OSError as e:
                if e.errno not in (errno.ENOBUFS, errno.EAGAIN):
                    raise
                time.sleep(0.0001)
        sent += 1
    return sent


def udp_socket(sport):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if sport:
        sock.bind(("0.0.0.0", sport))
    return sock


def send_ntp(dst, spec):
    """Returns (sent, wanted)."""
    parts = [int(x) for x in spec.split(":")]
    mode, sport, dport, count = parts[:4]
    length = parts[4] if len(parts) > 4 else NTP_HEADER_LEN
    with udp_socket(sport) as sock:
        payloads = (ntp_payload(mode, length, i) for i in range(count))
        return sendto_all(sock, payloads, (dst, dport)), count


def send_udp(dst, spec):
    sport, dport, count = (int(x) for x in spec.split(":"))
    with udp_socket(sport) as sock:
        payloads = (b"dynmon-e2e" for _ in range(count))
        return sendto_all(sock, payloads, (dst, dport)), count


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def tcp_syn(src, dst, sport, dport, seq):
    """A 20-byte TCP header with SYN set and a correct checksum over the pseudo-header."""
    header = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x02, 64240, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack(
        "!BBH", 0, socket.IPPROTO_TCP, len(header))
    return header[:16] + struct.pack("!H", checksum(pseudo + header)) + header[18:]


def source_address(dst):
    """The address the kernel would send from to reach dst."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect((dst, 9))
        return probe.getsockname()[0]


def send_tcp(dst, spec):
    dport, count = (int(x) for x in spec.split(":"))
    src = source_address(dst)
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP) as sock:
        segments = (tcp_syn(src, dst, 40000 + i % 1000, dport, 1000 + i) for i in range(count))
        return sendto_all(sock, segments, (dst, 0)), count


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send")
    s.add_argument("--dst", required=True)
    s.add_argument("--ntp", action="append", default=[])
    s.add_argument("--udp", action="append", default=[])
    s.add_argument("--tcp", action="append", default=[])
    args = p.parse_args()

    sent, ok = [], True
    for kind, specs, fn in (("ntp", args.ntp, send_ntp), ("udp", args.udp, send_udp),
                            ("tcp", args.tcp, send_tcp)):
        for spec in specs:
            n, wanted = fn(args.dst, spec)
            ok = ok and n == wanted
            sent.append({"kind": kind, "spec": spec, "sent": n})
    print(json.dumps({"sent": sent, "total": sum(x["sent"] for x in sent)}), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
