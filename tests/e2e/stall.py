#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Stalled readers (issue 10, F5): N clients GET PATH and never read the answer, while another
client asks for SMALL. Prints one line: dynmond's RSS growth (KiB) while they stall, the other
client's status and time (ms), and then how the stalled ones were answered: how many 200s,
503s, and the Retry-After of a 503.

usage: stall.py PORT DAEMON_PID PATH N SMALL"""
import socket
import sys
import time


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    port, pid, path, n, small = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
    before = rss_kib(pid)
    peak = before
    stalled = []
    for _ in range(n):
        s = socket.socket()
        # A small window: the answer stays in the daemon, as with a client that does not read.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", int(port)))
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        stalled.append(s)
        peak = max(peak, rss_kib(pid))
    for _ in range(20):  # while they stall
        time.sleep(0.1)
        peak = max(peak, rss_kib(pid))
    t0 = time.monotonic()
    other = socket.create_connection(("127.0.0.1", int(port)), timeout=30)
    other.sendall(f"GET {small} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    head = b""
    try:
        while b"\r\n" not in head:
            chunk = other.recv(4096)
            if not chunk:
                break
            head += chunk
    except socket.timeout:
        pass
    ms = int((time.monotonic() - t0) * 1000)
    status = head.split(b" ")[1].decode() if head.startswith(b"HTTP/") else "000"
    peak = max(peak, rss_kib(pid))
    counts = {"200": 0, "503": 0}
    retry = "-"
    for s in stalled:
        s.settimeout(5)
        try:
            first = s.recv(4096)
        except socket.timeout:
            first = b""
        code = first.split(b" ")[1].decode() if first.startswith(b"HTTP/") else "000"
        counts[code] = counts.get(code, 0) + 1
        if code == "503":
            for line in first.split(b"\r\n"):
                if line.lower().startswith(b"retry-after:"):
                    retry = line.split(b":", 1)[1].strip().decode()
        s.close()
    print(peak - before, status, ms, counts["200"], counts["503"], retry)


main()
