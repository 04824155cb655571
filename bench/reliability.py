#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The load and fault bench (issue 10), run by `bench/run.sh reliability` inside the daemon's
network namespace, which run.sh made with its veths, bus and BPF file system.

  reliability.py run SETTINGS.json     the whole bench; prints the figures (Markdown), exits 1
                                       when an audit finds an inconsistency, a leak or a loss
  reliability.py traffic SECONDS PPS DST...   UDP to each DST (run in the sender's namespace)

SETTINGS: daemon (argv), pidfile, bus, port, ifaces, state_dir, pin_dir, configs (plain, empty,
swap: paths), seconds (of load), kills (rounds of kill -9), slowloris_seconds, src (the tree),
sender (argv prefix to run a command in the sender's namespace), dsts.

Phases: (1) a stable set of monitors, traffic, then concurrent D-Bus and REST clients doing every
operation for `seconds`; (2) the audit: the API (D-Bus and REST) against tc's filters, bpftool's
programs, the pins, the state file, and the daemon's fds and RSS; what was read of the
empty-on-read and swap-on-read counters against a plain counter of the same packets (nothing
lost); (3) kill -9 during an inject, a swap-on-read read and a burst of saved changes, a restart,
the audit again and every acknowledged change checked; (4) slowloris and stalled readers against
REST while readers keep reading (latencies); (5) every monitor deleted: no filter, pin or program
left, fds back to where they started.
"""
import http.client
import json
import multiprocessing as mp
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import dbus

BUS_NAME = "org.polycube.Dynmon"
MANAGER_PATH = "/org/polycube/Dynmon"
MANAGER = "org.polycube.Dynmon.Manager"
MONITOR = "org.polycube.Dynmon.Monitor"
PROPS = "org.freedesktop.DBus.Properties"
ERR = "org.polycube.Dynmon.Error."
REST = "/polycube/v1/dynmon"
# Answers that mean the daemon failed, not that the caller asked something refused.
NO_OPTIONS = dbus.Dictionary({}, signature="sv")  # (no introspection to tell the signature)
UNEXPECTED = ("Failed", "NoMemory", "StateNotSaved", "NoReply", "Disconnected", "transport", "http-5")


# ---- clients ---------------------------------------------------------------------------------


class Bus:
    def __init__(self, address):
        self.bus = dbus.bus.BusConnection(address)

    def manager(self):
        return dbus.Interface(self.bus.get_object(BUS_NAME, MANAGER_PATH, introspect=False), MANAGER)

    def monitor(self, name, iface=MONITOR):
        path = self.manager().GetMonitor(name)
        return dbus.Interface(self.bus.get_object(BUS_NAME, path, introspect=False), iface)

    def list(self):
        return sorted(str(n) for n, _ in self.manager().ListMonitors())

    def prop(self, name, prop):
        return str(self.monitor(name, PROPS).Get(MONITOR, prop))


def rest(port, method, path, body=None, timeout=60):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = json.dumps(body) if body is not None else None
        conn.request(method, path, body=data,
                     headers={"Content-Type": "application/json"} if data else {})
        resp = conn.getresponse()
        text = resp.read().decode()
        return resp.status, text
    finally:
        conn.close()


def rest_error_name(status, text):
    if status >= 500:
        try:
            return "http-%d:%s" % (status, json.loads(text)["error"].replace(ERR, ""))
        except (ValueError, KeyError, TypeError):
            return "http-%d" % status
    try:
        return json.loads(text)["error"].replace(ERR, "")
    except (ValueError, KeyError, TypeError):
        return "http-%d" % status


class Stats:
    def __init__(self):
        self.ops = {}  # op -> [latencies in ms]
        self.errors = {}  # "op: name" -> count
        self.read = {"empty": 0, "swap": 0}  # what readers took from the shared counters
        self.read_by = {}  # "op target" -> what that form of read took

    def timed(self, op, fn, *args):
        t0 = time.monotonic()
        try:
            return fn(*args)
        except dbus.DBusException as e:
            name = (e.get_dbus_name() or "dbus").replace(ERR, "")
            name = name.replace("org.freedesktop.DBus.Error.", "")
            self.errors[f"{op}: {name}"] = self.errors.get(f"{op}: {name}", 0) + 1
        except OSError as e:
            self.errors[f"{op}: transport"] = self.errors.get(f"{op}: transport", 0) + 1
            del e
        finally:
            self.ops.setdefault(op, []).append((time.monotonic() - t0) * 1000)
        return None

    def rest(self, op, port, method, path, body=None, ok=(200, 201, 204)):
        def call():
            status, text = rest(port, method, path, body)
            if status not in ok:
                name = rest_error_name(status, text)
                self.errors[f"{op}: {name}"] = self.errors.get(f"{op}: {name}", 0) + 1
                return None
            return text
        return self.timed(op, call)

    def merge(self, other):
        for k, v in other["ops"].items():
            self.ops.setdefault(k, []).extend(v)
        for k, v in other["errors"].items():
            self.errors[k] = self.errors.get(k, 0) + v
        for k, v in other["read"].items():
            self.read[k] += v
        for k, v in other["read_by"].items():
            self.read_by[k] = self.read_by.get(k, 0) + v

    def dump(self):
        return {"ops": self.ops, "errors": self.errors, "read": self.read,
                "read_by": self.read_by}

    def took(self, op, target, text):
        """Counts what a read of s-empty or s-swap took."""
        if text is None or target == "s-plain":
            return
        v = value_of_doc(str(text))
        self.read[target[2:]] += v
        self.read_by[f"{op} {target}"] = self.read_by.get(f"{op} {target}", 0) + v


def value_of_doc(text):
    """The counter in a metrics document or a value ([N]); 0 when the map was empty."""
    doc = json.loads(text)
    if isinstance(doc, dict):
        metrics = doc.get("ingress-metrics") or []
        doc = metrics[0]["value"] if metrics else []
    return doc[0] if doc else 0


def scraped(text):
    """(monitor, value) of the packet counters of s-empty and s-swap in a /metrics text."""
    for line in (text or "").splitlines():
        m = re.match(r'^packets_total\{[^}]*monitor="(s-empty|s-swap)"[^}]*\} (\S+)', line)
        if m:
            yield m.group(1), int(float(m.group(2)))


# ---- workers (one process each: real concurrency, one bus connection each) --------------------


def admin_bus(s, k, until, out):
    """Owns monitors bK-0..2: create, inject, attach, detach, LogLevel, delete, list."""
    random.seed(os.getpid())
    bus, st, names = Bus(s["bus"]), Stats(), [f"b{k}-{i}" for i in range(3)]
    configs = [open(s["configs"][c]).read() for c in ("plain", "empty", "swap")]
    while time.monotonic() < until:
        name = random.choice(names)
        op = random.choice(("create", "inject", "inject", "attach", "detach", "loglevel",
                            "delete", "list"))
        if op == "create":
            st.timed("bus create", lambda: bus.manager().CreateMonitor(name, NO_OPTIONS))
        elif op == "inject":
            st.timed("bus inject", lambda: bus.monitor(name).Inject(random.choice(configs),
                                                                     timeout=120))
        elif op == "attach":
            st.timed("bus attach", lambda: bus.monitor(name).Attach(random.choice(s["ifaces"])))
        elif op == "detach":
            st.timed("bus detach", lambda: bus.monitor(name).Detach())
        elif op == "loglevel":
            st.timed("bus loglevel", lambda: bus.monitor(name, PROPS).Set(
                MONITOR, "LogLevel", dbus.String(random.choice(("INFO", "DEBUG", "OFF")),
                                                 variant_level=1), timeout=120))
        elif op == "delete":
            st.timed("bus delete", lambda: bus.manager().DeleteMonitor(name))
        else:
            st.timed("bus list", bus.list)
    out.put(st.dump())


def admin_rest(s, k, until, out):
    """Owns monitors rK-0..2 through REST: PUT (create and inject), attach, detach, PATCH of
    the log level, DELETE, the list."""
    random.seed(os.getpid())
    st, port, names = Stats(), s["port"], [f"r{k}-{i}" for i in range(3)]
    configs = [json.load(open(s["configs"][c])) for c in ("plain", "empty")]
    while time.monotonic() < until:
        name = random.choice(names)
        op = random.choice(("put", "put", "attach", "detach", "loglevel", "delete", "list"))
        if op == "put":
            st.rest("rest put", port, "PUT", f"{REST}/{name}",
                    {"type": "TC", "dataplane-config": random.choice(configs)})
        elif op == "attach":
            st.rest("rest attach", port, "POST", "/polycube/v1/attach",
                    {"cube": name, "port": random.choice(s["ifaces"])})
        elif op == "detach":
            st.rest("rest detach", port, "POST", "/polycube/v1/detach",
                    {"cube": name, "port": "x"})
        elif op == "loglevel":
            st.rest("rest loglevel", port, "PATCH", f"{REST}/{name}/loglevel",
                    random.choice(("INFO", "DEBUG")))
        elif op == "delete":
            st.rest("rest delete", port, "DELETE", f"{REST}/{name}")
        else:
            st.rest("rest list", port, "GET", REST)
    out.put(st.dump())


def reader_bus(s, k, until, out):
    """Reads the shared monitors: ReadMetrics (JSON, OpenMetrics), the explicit Metrics and
    OpenMetrics properties; what it takes from s-empty and s-swap is summed."""
    random.seed(os.getpid())
    bus, st = Bus(s["bus"]), Stats()
    while time.monotonic() < until:
        op = random.choice(os.environ.get("RELIABILITY_BUS_READS", "").split() or (
            "readmetrics", "readmetrics-om", "metrics-prop", "om-prop", "get"))
        target = random.choice(("s-plain", "s-empty", "s-swap"))
        if op == "readmetrics":
            text = st.timed("bus ReadMetrics", lambda: bus.monitor(target).ReadMetrics(
                "ingress", "packets_total", "json", timeout=60))
            st.took("ReadMetrics", target, text)
        elif op == "metrics-prop":
            st.took("Metrics", target, st.timed("bus Metrics", lambda: bus.prop(target, "Metrics")))
        elif op == "readmetrics-om":
            st.timed("bus ReadMetrics om", lambda: bus.monitor("s-plain").ReadMetrics(
                "", "", "openmetrics", timeout=60))
        elif op == "om-prop":
            st.timed("bus OpenMetrics", lambda: bus.prop("s-plain", "OpenMetrics"))
        else:
            st.timed("bus GetMonitor", lambda: bus.manager().GetMonitor(target))
    out.put(st.dump())


def reader_rest(s, k, until, out):
    random.seed(os.getpid())
    st, port = Stats(), s["port"]
    while time.monotonic() < until:
        op = random.choice(os.environ.get("RELIABILITY_REST_READS", "").split() or (
            "value", "metrics", "open-metrics", "scrape", "monitor"))
        target = random.choice(("s-plain", "s-empty", "s-swap"))
        if op == "value":
            text = st.rest("rest value", port, "GET",
                           f"{REST}/{target}/metrics/ingress-metrics/packets_total/value")
            st.took("rest value", target, text)
        elif op == "metrics":
            text = st.rest("rest metrics", port, "GET", f"{REST}/{target}/metrics")
            st.took("rest metrics", target, text)
        elif op == "open-metrics":
            st.rest("rest open-metrics", port, "GET", f"{REST}/s-plain/open-metrics")
        elif op == "scrape":  # takes from s-empty and s-swap too: their counter is exported
            text = st.rest("rest /metrics", port, "GET", "/metrics")
            for target, v in scraped(text):
                st.read[target[2:]] += v
                st.read_by[f"/metrics {target}"] = st.read_by.get(f"/metrics {target}", 0) + v
        else:
            st.rest("rest monitor", port, "GET", f"{REST}/s-plain")
    out.put(st.dump())


def run_workers(s, seconds, kinds):
    out, procs = mp.Queue(), []
    until = time.monotonic() + seconds
    for k, fn in enumerate(kinds):
        p = mp.Process(target=fn, args=(s, k, until, out))
        p.start()
        procs.append(p)
    st = Stats()
    if not procs:
        time.sleep(seconds)
    for _ in procs:
        st.merge(out.get(timeout=seconds + 300))
    for p in procs:
        p.join()
    return st


# ---- the daemon --------------------------------------------------------------------------------


class Daemon:
    def __init__(self, s):
        self.s, self.proc, self.log = s, None, open(s["log"], "a")

    def start(self):
        self.proc = subprocess.Popen(self.s["daemon"], stdout=self.log, stderr=self.log)
        with open(self.s["pidfile"], "w") as f:
            f.write(str(self.proc.pid))
        bus = None
        for _ in range(600):
            try:
                bus = bus or Bus(self.s["bus"])
                bus.list()
                if rest(self.s["port"], "GET", REST, timeout=5)[0] == 200:
                    return
            except (dbus.DBusException, OSError):
                pass
            if self.proc.poll() is not None:
                sys.exit(f"dynmond exited ({self.proc.returncode}): see {self.s['log']}")
            time.sleep(0.1)
        sys.exit("dynmond did not answer within 60 s")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill9()

    def fds(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def rss_kib(self):
        for line in open(f"/proc/{self.proc.pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0


# ---- the audit ---------------------------------------------------------------------------------


def tc_filters(iface):
    """{direction: [prog ids of bpf filters]} on one interface (ours, in this namespace)."""
    found = {}
    for direction in ("ingress", "egress"):
        out = subprocess.run(["tc", "-j", "filter", "show", "dev", iface, direction],
                             capture_output=True, text=True, check=False).stdout or "[]"
        ids = []
        for f in json.loads(out):
            prog = (f.get("options") or {}).get("prog") or {}
            if f.get("kind") == "bpf" and "id" in prog:
                ids.append(prog["id"])
        found[direction] = ids
    return found


def daemon_objects(pid):
    """Ids of the programs and maps the daemon holds a file descriptor of (its fdinfo)."""
    progs, maps = set(), set()
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            info = open(f"/proc/{pid}/fdinfo/{fd}").read().splitlines()
        except OSError:  # closed meanwhile
            continue
        for line in info:
            if line.startswith("prog_id:"):
                progs.add(int(line.split()[1]))
            elif line.startswith("map_id:"):
                maps.add(int(line.split()[1]))
    return progs, maps


def audit(s, daemon, label):
    """Everything that should agree, agrees; returns (figures, problems)."""
    problems, bus = [], Bus(s["bus"])
    names = bus.list()
    status, text = rest(s["port"], "GET", REST)
    rest_names = sorted(m["name"] for m in json.loads(text)) if status == 200 else None
    if rest_names != names:
        problems.append(f"{label}: D-Bus lists {names}, REST {rest_names}")
    api = {}
    for n in names:
        cfg = json.loads(bus.prop(n, "Config") or "{}")
        api[n] = {"iface": bus.prop(n, "Interface"), "state": bus.prop(n, "State"),
                  "injected": bool((cfg.get("ingress-path") or {}).get("code"))}
    # The state file: the same monitors, the same interfaces; no temporary file beside it.
    state = json.load(open(os.path.join(s["state_dir"], "monitors.json")))
    saved = {m["name"]: m.get("interface", "") for m in state["monitors"]}
    if saved != {n: a["iface"] for n, a in api.items()}:
        problems.append(f"{label}: the state file has {saved}, the API "
                        f"{ {n: a['iface'] for n, a in api.items()} }")
    # (objects/: the compile cache, whose temporary files are .KEY.tmp)
    extra = [f for f in os.listdir(s["state_dir"]) if f not in ("monitors.json", "objects")]
    cache = os.path.join(s["state_dir"], "objects")
    if os.path.isdir(cache):
        extra += [f"objects/{f}" for f in os.listdir(cache) if f.startswith(".")]
    if extra:
        problems.append(f"{label}: left in the state directory: {extra}")
    # tc: one ingress filter per attached monitor on each interface, none on egress; each
    # filter's program held by the daemon.
    held, maps = daemon_objects(daemon.proc.pid)
    n_filters = 0
    for iface in s["ifaces"]:
        f = tc_filters(iface)
        # (a monitor attached before its first inject has no filter yet)
        want = sorted(n for n, a in api.items() if a["iface"] == iface and a["injected"])
        n_filters += len(f["ingress"]) + len(f["egress"])
        if len(f["ingress"]) != len(want) or f["egress"]:
            problems.append(f"{label}: {iface} has filters {f}, monitors attached {want}")
        orphans = [i for i in f["ingress"] + f["egress"] if i not in held]
        if orphans:
            problems.append(f"{label}: {iface}: filters of programs dynmond does not hold: "
                            f"{orphans}")
    # Pins: one directory per monitor with a dataplane, none for another.
    pinned = sorted(os.listdir(s["pin_dir"])) if os.path.isdir(s["pin_dir"]) else []
    injected = sorted(n for n, a in api.items() if a["injected"])
    if pinned != injected:
        problems.append(f"{label}: pinned {pinned}, injected {injected}")
    figures = {"monitors": len(names), "attached": sum(1 for a in api.values() if a["iface"]),
               "filters": n_filters, "progs": len(held), "maps": len(maps),
               "pins": len(pinned), "fds": daemon.fds(), "rss_kib": daemon.rss_kib()}
    return figures, problems


# ---- phases ------------------------------------------------------------------------------------


def shared_monitors(s, bus):
    for kind in ("plain", "empty", "swap"):
        name = f"s-{kind}"
        if name not in bus.list():
            bus.manager().CreateMonitor(name, NO_OPTIONS)
        bus.monitor(name).Inject(open(s["configs"][kind]).read(), timeout=120)
        if not bus.prop(name, "Interface"):
            bus.monitor(name).Attach(s["ifaces"][0])


def counter(bus, name):
    return value_of_doc(str(bus.monitor(name).ReadMetrics("ingress", "packets_total", "json")))


def traffic(s, seconds, pps):
    return subprocess.Popen(s["sender"] + [sys.executable, os.path.abspath(__file__), "traffic",
                                           str(seconds), str(pps)] + s["dsts"])


def phase_load(s, daemon, seconds):
    bus = Bus(s["bus"])
    shared_monitors(s, bus)
    for name in ("s-plain", "s-empty", "s-swap"):  # from zero: what came before is not counted
        counter(bus, name)
    base_plain = counter(bus, "s-plain")
    sender = traffic(s, seconds, 500)
    kinds = [admin_bus, admin_bus, admin_rest, reader_bus, reader_bus, reader_rest, reader_rest]
    # RELIABILITY_WORKERS: which clients (admin, readers, none; default both), to tell which
    # clients cause what.
    which = os.environ.get("RELIABILITY_WORKERS", "all")
    kinds = {"all": kinds, "admin": kinds[:3], "readers": kinds[3:], "none": [],
             "one-bus": [reader_bus], "one-rest": [reader_rest]}[which]
    st = run_workers(s, seconds, kinds)
    sender.wait()
    time.sleep(0.5)
    plain = counter(bus, "s-plain") - base_plain
    took = {"empty": st.read["empty"] + counter(bus, "s-empty"),
            "swap": st.read["swap"] + counter(bus, "s-swap") + counter(bus, "s-swap")}
    # Swap-on-read promises exactness; empty-on-read does not (a packet between the read of an
    # entry and its deletion is lost): its loss is a figure.
    problems = [f"swap-on-read: readers took {took['swap']} packets, the plain counter saw "
                f"{plain}"] if took["swap"] != plain else []
    return st, {"plain": plain, **took}, problems


def kill_round(s, daemon, kind, rng):
    """kill -9 at a random point of `kind`; returns the problems found after the restart."""
    bus, problems = Bus(s["bus"]), []
    if "k-inj" not in bus.list():
        bus.manager().CreateMonitor("k-inj", NO_OPTIONS)
        bus.monitor("k-inj").Inject(open(s["configs"]["plain"]).read(), timeout=120)
        bus.monitor("k-inj").Attach(s["ifaces"][1])
    acked, inflight = {}, set()  # name -> interface ("" detached, None deleted) as answered

    def save_burst():
        b = Bus(s["bus"])
        i = 0
        while True:
            name = f"k-save-{i % 4}"
            inflight.add(name)
            try:
                if name in acked and acked[name] is not None:
                    if acked[name]:
                        b.monitor(name).Detach()
                        acked[name] = ""
                    else:
                        b.manager().DeleteMonitor(name)
                        acked[name] = None
                else:
                    b.manager().CreateMonitor(name, NO_OPTIONS)
                    acked[name] = ""
                    b.monitor(name).Attach(s["ifaces"][2])
                    acked[name] = s["ifaces"][2]
            except dbus.DBusException:
                return
            inflight.discard(name)
            i += 1

    def inject():
        try:
            Bus(s["bus"]).monitor("k-inj").Inject(open(s["configs"]["empty"]).read(),
                                                  timeout=120)
        except dbus.DBusException:
            pass

    def swap_reads():
        b = Bus(s["bus"])
        try:
            while True:
                b.monitor("s-swap").ReadMetrics("ingress", "", "json")
        except dbus.DBusException:
            pass

    before = bus.list()
    fn = {"inject": inject, "swap": swap_reads, "save": save_burst}[kind]
    t = threading.Thread(target=fn, daemon=True)
    t.start()
    point = rng.uniform(0.05, 1.5 if kind == "inject" else 0.8)
    time.sleep(point)
    daemon.kill9()
    t.join(timeout=30)
    daemon.start()
    after = Bus(s["bus"]).list()
    for name in before:
        if name not in after and not name.startswith("k-save-"):
            problems.append(f"kill during {kind}: {name} was lost")
    for name, iface in acked.items():
        if name in inflight:
            continue
        now = Bus(s["bus"]).prop(name, "Interface") if name in after else None
        if now != iface:
            problems.append(f"kill during {kind}: {name} acknowledged as {iface!r}, "
                            f"back as {now!r}")
    checked = len(acked) - len(inflight & set(acked))
    print(f"| {kind} | {point * 1000:.0f} | {len(before)} | {len(after)} | {checked} | "
          f"{len(problems)} |")
    # Clean the burst's monitors for the next round.
    for name in after:
        if name.startswith("k-save-"):
            Bus(s["bus"]).manager().DeleteMonitor(name)
    return problems


def stalled_readers(port, n):
    """n connections that ask for a monitor's metrics and never read the answer."""
    socks = []
    for _ in range(n):
        c = socket.socket()
        c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
        c.connect(("127.0.0.1", port))
        c.sendall(f"GET {REST}/s-plain/metrics HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        socks.append(c)
    return socks


def phase_attack(s, seconds):
    """Slowloris (tests/e2e/slowloris.py: 300 connections from 127.0.0.2, with its own
    legitimate client from 127.0.0.3) and 20 stalled readers, while readers keep reading."""
    loris = subprocess.Popen([sys.executable, os.path.join(s["src"], "tests/e2e/slowloris.py"),
                              "127.0.0.1", str(s["port"]), "127.0.0.2", "127.0.0.3", "300",
                              str(seconds), "5"], stdout=subprocess.PIPE, text=True)
    socks = stalled_readers(s["port"], 20)
    st = run_workers(s, seconds, [reader_rest, reader_rest, reader_bus])
    out, _ = loris.communicate(timeout=seconds + 60)
    for c in socks:
        c.close()
    return st, json.loads(out)


# ---- figures -----------------------------------------------------------------------------------


def pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))] if v else 0


def table(st, title):
    print(f"\n{title}\n\n| operation | done | p50 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|")
    for op in sorted(st.ops):
        v = st.ops[op]
        print(f"| {op} | {len(v)} | {pct(v, .5):.1f} | {pct(v, .99):.1f} | {max(v):.1f} |")
    print(f"\nDone: {sum(len(v) for v in st.ops.values())} operations. Errors by name:"
          f" {', '.join(f'{k} {v}' for k, v in sorted(st.errors.items())) or 'none'}.")
    unexpected = {k: v for k, v in st.errors.items() if any(u in k for u in UNEXPECTED)}
    return [f"unexpected errors: {unexpected}"] if unexpected else []


def figures_row(label, f):
    print(f"| {label} | {f['monitors']} | {f['attached']} | {f['filters']} | {f['progs']} | "
          f"{f['maps']} | {f['pins']} | {f['fds']} | {f['rss_kib'] / 1024:.1f} |")


def run(s):
    daemon, problems = Daemon(s), []
    daemon.start()
    try:
        # One scrape first: /metrics opens what dynmond then keeps open (the bpf_stats sysctl).
        rest(s["port"], "GET", "/metrics")
        time.sleep(1)
        start, p = audit(s, daemon, "start")
        problems += p
        print(f"# reliability: {s['seconds']} s of load, {s['kills']} kill -9 rounds, "
              f"{s['slowloris_seconds']} s of slowloris; load average "
              f"{open('/proc/loadavg').read().split()[0]} at start")
        st, counts, p = phase_load(s, daemon, s["seconds"])
        problems += p + table(st, "## Load: concurrent D-Bus and REST clients, traffic flowing")
        print(f"\nRead by form: {json.dumps(st.read_by)}")
        print(f"\nCounts: the plain counter saw {counts['plain']} packets; swap-on-read readers "
              f"took {counts['swap']} (exact: {counts['swap'] == counts['plain']}); "
              f"empty-on-read readers {counts['empty']} "
              f"({counts['plain'] - counts['empty']} lost between a read and its emptying).")
        audits = [("after load", *audit(s, daemon, "after load"))]
        rng = random.Random(s.get("seed", time.time()))
        kinds = ["inject", "swap", "save"]
        if s["kills"]:
            print("\n## kill -9, restart\n\n| during | killed after ms | monitors before | "
                  "after restart | acknowledged changes checked | problems |\n"
                  "|---|---:|---:|---:|---:|---:|")
        for i in range(s["kills"]):
            kind = kinds[i % 3]
            problems += kill_round(s, daemon, kind, rng)
            audits.append((f"after kill -9 in {kind}", *audit(s, daemon, f"kill {i} {kind}")))
        if s["slowloris_seconds"]:
            st, loris = phase_attack(s, s["slowloris_seconds"])
            problems += table(st, "## Under slowloris (300 connections) and 20 stalled readers")
            print(f"\nslowloris.py: {json.dumps(loris)}")
            if loris.get("legit_failed"):
                problems.append(f"slowloris: {loris['legit_failed']} legitimate requests failed")
        bus = Bus(s["bus"])
        for name in bus.list():
            bus.manager().DeleteMonitor(name)
        # Connections the clients closed or left (slowloris) are closed by the daemon too, at
        # the latest at the request deadline (10 s).
        for _ in range(30):
            if daemon.fds() <= start["fds"]:
                break
            time.sleep(0.5)
        audits.append(("all deleted", *audit(s, daemon, "all deleted")))
        print("\n## Audits\n\n| when | monitors | attached | tc filters | progs | maps | pins |"
              " fds | RSS MiB |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        figures_row("start (no monitor)", start)
        for label, f, p in audits:
            figures_row(label, f)
            problems += p
        end = audits[-1][1]
        for key in ("filters", "progs", "maps", "pins"):  # the daemon's own maps stay
            if end[key] > start[key]:
                problems.append(f"all deleted: {end[key]} {key}, {start[key]} at start")
        if end["fds"] > start["fds"]:
            fd_dir = f"/proc/{daemon.proc.pid}/fd"
            targets = sorted(os.readlink(f"{fd_dir}/{f}") for f in os.listdir(fd_dir))
            problems.append(f"fds: {start['fds']} at start, {end['fds']} at the end: {targets}")
    finally:
        daemon.stop()
    print("\nAudit: " + ("; ".join(problems) if problems else
                         "consistent, nothing lost, nothing leaked."))
    return 1 if problems else 0


def traffic_main(seconds, pps, dsts):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    end, i = time.monotonic() + seconds, 0
    while time.monotonic() < end:
        for d in dsts:
            s.sendto(b"x" * 64, (d, 9))
        i += 1
        time.sleep(max(0.0, (i / pps) - (time.monotonic() - (end - seconds))))


if __name__ == "__main__":
    if sys.argv[1] == "traffic":
        traffic_main(float(sys.argv[2]), float(sys.argv[3]), sys.argv[4:])
    else:
        sys.exit(run(json.load(open(sys.argv[2]))))
