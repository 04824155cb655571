#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A bounded slowloris against dynmond's REST port, with a legitimate client alongside, for
e2e-rest-abuse.sh. Loopback only: it refuses any other destination.

  slowloris.py HOST PORT ATTACKER-ADDRESS CLIENT-ADDRESS CONNECTIONS SECONDS INTERVAL
  slowloris.py count HOST PORT ADDRESS CONNECTIONS

From ATTACKER-ADDRESS it keeps CONNECTIONS connections open, each sending a request line and
then one header line every INTERVAL seconds, never the blank line that ends the headers; one the
server closes is opened again a second later (a real slowloris does). From CLIENT-ADDRESS, a
legitimate client sends GET /polycube/v1/dynmon every half second. After SECONDS it stops and
prints one JSON object:

  opened         connections the attacker opened in all
  longest_s      the longest time the server let one attacker connection live
  legit_ok       legitimate requests answered with 200
  legit_failed   legitimate requests that got no answer within 5 s, or not 200
  legit_max_s    the slowest legitimate answer

"count" opens CONNECTIONS idle connections from ADDRESS, waits a second and prints how many the
server kept open (the rest it closed at once).
"""
import http.client
import json
import selectors
import socket
import sys
import threading
import time

MAX_CONNECTIONS = 1000
MAX_SECONDS = 120
MAX_OPENS = 20000


def legit_client(host, port, source, until, result):
    while time.monotonic() < until:
        start = time.monotonic()
        try:
            conn = http.client.HTTPConnection(host, port, timeout=5, source_address=(source, 0))
            conn.request("GET", "/polycube/v1/dynmon")
            status = conn.getresponse().status
            conn.close()
            ok = status == 200
        except OSError:
            ok = False
        elapsed = time.monotonic() - start
        result["legit_ok" if ok else "legit_failed"] += 1
        result["legit_max_s"] = max(result["legit_max_s"], round(elapsed, 3))
        time.sleep(max(0, 0.5 - elapsed))


class Attacker:
    def __init__(self, host, port, source, interval):
        self.host, self.port, self.source, self.interval = host, port, source, interval
        self.sel = selectors.DefaultSelector()
        self.opened = 0
        self.longest = 0.0
        self.open = {}  # socket -> [opened at, next header at]

    def connect(self):
        if self.opened >= MAX_OPENS:
            return
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((self.source, 0))
        s.settimeout(2)
        try:
            s.connect((self.host, self.port))
            s.sendall(b"GET /polycube/v1/dynmon HTTP/1.1\r\nHost: x\r\n")
        except OSError:
            s.close()
            return
        s.setblocking(False)
        self.opened += 1
        now = time.monotonic()
        self.open[s] = [now, now + self.interval]
        self.sel.register(s, selectors.EVENT_READ)

    def closed(self, s, now):
        self.longest = max(self.longest, now - self.open.pop(s)[0])
        self.sel.unregister(s)
        s.close()

    def step(self, now):
        for key, _ in self.sel.select(timeout=0.1):
            try:
                data = key.fileobj.recv(4096)
            except OSError:
                data = b""
            if not data:  # closed by the server (or an answer: it counts the same)
                self.closed(key.fileobj, now)
        for s, times in list(self.open.items()):
            if now >= times[1]:
                try:
                    s.send(b"X-Slow: %d\r\n" % int(now))
                    times[1] = now + self.interval
                except OSError:
                    self.closed(s, now)


def count(host, port, source, n):
    socks = []
    for _ in range(min(n, MAX_CONNECTIONS)):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((source, 0))
        s.settimeout(2)
        try:
            s.connect((host, port))
        except OSError:
            s.close()
            continue
        socks.append(s)
    time.sleep(1)
    kept = 0
    for s in socks:
        s.setblocking(False)
        try:
            kept += s.recv(1) != b""
        except BlockingIOError:
            kept += 1  # nothing to read, not closed: kept open
        except OSError:
            pass
        s.close()
    print(kept)


def main():
    if sys.argv[1] == "count":
        if not (sys.argv[2].startswith("127.") and sys.argv[4].startswith("127.")):
            sys.exit("slowloris.py: loopback only")
        return count(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
    host, port, attacker, client = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    n, seconds, interval = int(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7])
    for address in (host, attacker, client):
        if not address.startswith("127."):
            sys.exit(f"slowloris.py: loopback only, not {address}")
    n, seconds = min(n, MAX_CONNECTIONS), min(seconds, MAX_SECONDS)

    result = {"legit_ok": 0, "legit_failed": 0, "legit_max_s": 0.0}
    until = time.monotonic() + seconds
    a = Attacker(host, port, attacker, interval)
    for _ in range(n):
        a.connect()
    legit = threading.Thread(target=legit_client, args=(host, port, client, until, result))
    legit.start()
    next_refill = time.monotonic() + 1
    while (now := time.monotonic()) < until:
        a.step(now)
        if now >= next_refill:
            for _ in range(n - len(a.open)):
                a.connect()
            next_refill = now + 1
    legit.join()
    now = time.monotonic()
    for s in list(a.open):
        a.closed(s, now)
    result.update(opened=a.opened, longest_s=round(a.longest, 3))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
