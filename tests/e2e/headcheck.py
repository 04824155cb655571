#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""HEAD against GET on REST paths, for e2e-rest-abuse.sh (RFC 9110 9.3.2: HEAD is GET without
the content).

  headcheck.py PORT PATH...

For each path, one line: "PATH GET-STATUS HEAD-STATUS SAME-TYPE HAS-LENGTH EXTRA-BYTES", where
SAME-TYPE is yes when HEAD's Content-Type is GET's, HAS-LENGTH is yes when HEAD says a
Content-Length, and EXTRA-BYTES counts what the server sent after HEAD's headers (0 expected).

  headcheck.py abort PORT N

Opens N connections that end abruptly (a reset): half in the middle of a request's headers,
half right after sending a whole request, before its answer.
"""
import http.client
import socket
import struct
import sys


def one(port, method, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(method, path)
    resp = conn.getresponse()
    resp.read()  # nothing for HEAD: http.client knows HEAD has no content
    extra = 0
    if method == "HEAD" and conn.sock:  # None: the server closed the connection
        conn.sock.settimeout(0.3)
        try:
            while data := conn.sock.recv(4096):
                extra += len(data)
        except socket.timeout:
            pass
    conn.close()
    return resp.status, resp.getheader("Content-Type"), resp.getheader("Content-Length"), extra


def reset(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def abort(port, n):
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        if i % 2:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        else:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        reset(s)


def main():
    if sys.argv[1] == "abort":
        return abort(int(sys.argv[2]), int(sys.argv[3]))
    port = int(sys.argv[1])
    for path in sys.argv[2:]:
        get_status, get_type, _, _ = one(port, "GET", path)
        head_status, head_type, head_length, extra = one(port, "HEAD", path)
        print(path, get_status, head_status, "yes" if head_type == get_type else "no",
              "yes" if head_length is not None else "no", extra)


if __name__ == "__main__":
    main()
