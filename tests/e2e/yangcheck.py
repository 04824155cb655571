#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Checks what dynmond serves against dynmon.yang, for e2e-polycubectl.sh.

  yangcheck.py YANG-DIR BASE CUBE

YANG-DIR holds dynmon.yang and the polycube-base modules it uses; BASE is
http://HOST:PORT/polycube/v1; CUBE a monitor whose configuration has both paths, a metric with
open-metrics-metadata and a label l, named x on both paths. A small reader of the YANG
subset these modules use (module, grouping, uses, container, list, leaf, key, type with enum,
config, mandatory, presence, description, default and polycube-base's init-only-config and
cli-example) gives the tree; then, node by node:
  - the node is served: GET answers 200;
  - its help (OPTIONS ?help=SHOW of its parent) has the YANG description, the kind (leaf, list,
    complex, key) and the simple type polycubed derives from the YANG type;
  - it takes writes exactly when polycubed registers them (config, not init-only): a PATCH with
    a body that is not JSON answers 400 then, 405 otherwise — no write happens either way;
  - a leaf of an enumeration completes to its values;
and the other way: every member of every object GET answers, and every param of every help, is a
node of the YANG or one of dynmon's documented additions (docs/POLYCUBE.md lists them).
Prints one line per failure; exits 1 if any.
"""
import http.client
import json
import os
import re
import sys
import urllib.parse

# What dynmond serves beyond dynmon.yang (docs/POLYCUBE.md, "Beyond dynmon.yang").
ADDITIONS = {"name", "parent", "state", "source", "template", "network-byte-order", "_links"}


def tokens(text):
    for m in re.finditer(r'"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|([{};])|([^\s{};"\']+)', text):
        if m.group(1) is not None:
            yield ("str", m.group(1).replace('\\"', '"'))
        elif m.group(2) is not None:
            yield ("str", m.group(2))
        elif m.group(3):
            yield (m.group(3), m.group(3))
        else:
            yield ("word", m.group(4))


def statements(toks):
    """[(keyword, argument, [substatements])] until a closing brace."""
    out = []
    for kind, value in toks:
        if kind == "}":
            return out
        if kind == ";":
            continue
        arg = None
        kind2, value2 = next(toks)
        if kind2 not in ("{", ";"):
            arg = value2
            kind2, value2 = next(toks)
        subs = statements(toks) if kind2 == "{" else []
        out.append((value, arg, subs))
    return out


def load(path):
    with open(path) as f:
        (kw, name, subs), = statements(iter(tokens(f.read())))
    return subs


class Node:
    def __init__(self, kw, name):
        self.kw, self.name, self.children = kw, name, []
        self.description, self.type, self.enums, self.key = "", None, None, None
        self.config, self.init_only, self.example = True, False, ""


def build(subs, groupings, config):
    nodes = []
    for kw, arg, s in subs:
        if kw == "uses":
            nodes += build(groupings[arg.split(":")[-1]], groupings, config)
        elif kw in ("container", "list", "leaf"):
            n = Node(kw, arg)
            n.config = config
            for k2, a2, s2 in s:
                if k2 == "description":
                    n.description = a2
                elif k2 == "config":
                    n.config = a2 == "true"
                elif k2 == "key":
                    n.key = a2
                elif k2.endswith("init-only-config"):
                    n.init_only = True
                elif k2.endswith("cli-example"):
                    n.example = a2
                elif k2 == "type":
                    n.type = a2
                    n.enums = [a for k3, a, _ in s2 if k3 == "enum"] or None
            n.children = build(s, groupings, n.config)
            nodes.append(n)
    return nodes


def tree(yang_dir):
    groupings = {}
    for name in ("polycube-base", "polycube-transparent-base", "dynmon"):
        for kw, arg, s in load(os.path.join(yang_dir, name + ".yang")):
            if kw == "grouping":
                groupings[arg] = s
    dynmon = load(os.path.join(yang_dir, "dynmon.yang"))
    return build([st for st in dynmon if st[0] != "grouping"], groupings, True)


def simpletype(t):
    t = t.split(":")[-1]
    if t.startswith("int"):
        return "integer"
    if t.startswith("uint"):
        return "unsigned"
    return {"boolean": "boolean", "decimal64": "decimal", "empty": "empty"}.get(t, "string")


class Checker:
    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port, self.base = u.hostname, u.port, u.path
        self.failures = 0

    def request(self, method, path, body=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        conn.request(method, self.base + path, body=body)
        r = conn.getresponse()
        data = r.read()
        try:
            return r.status, json.loads(data)
        except ValueError:
            return r.status, data.decode()

    def fail(self, msg):
        print(f"FAIL {msg}")
        self.failures += 1

    def expect(self, cond, msg):
        if not cond:
            self.fail(msg)

    def extra(self, path, members, node_children):
        known = {c.name for c in node_children} | ADDITIONS
        for m in members:
            self.expect(m in known, f"{path}: serves {m!r}, in neither dynmon.yang nor the "
                        "documented additions")

    def check(self, node, path, parent_path, keys):
        """`keys`: the element key to use for each list (by name)."""
        status, body = self.request("GET", path)
        self.expect(status == 200, f"GET {path}: {status} {body}")
        if isinstance(body, dict):
            self.extra(path, body, node.children)
        status, help_ = self.request("OPTIONS", parent_path + "?help=SHOW")
        params = help_.get("params", {}) if isinstance(help_, dict) else {}
        is_key = node.kw == "leaf" and node.name == getattr(self, "key_of", {}).get(parent_path)
        if not is_key:
            p = params.get(node.name)
            if p is None:
                self.fail(f"OPTIONS {parent_path}?help=SHOW: no param {node.name}")
            else:
                kind = {"leaf": "leaf", "list": "list", "container": "complex"}[node.kw]
                self.expect(p.get("type") == kind, f"{path}: help type {p.get('type')}, "
                            f"expected {kind}")
                self.expect(p.get("description") == node.description,
                            f"{path}: help description {p.get('description')!r}, "
                            f"YANG {node.description!r}")
                self.expect(p.get("example") == node.example, f"{path}: example "
                            f"{p.get('example')!r}, YANG {node.example!r}")
                if node.kw == "leaf":
                    self.expect(p.get("simpletype") == simpletype(node.type),
                                f"{path}: simpletype {p.get('simpletype')}, YANG {node.type}")
        writable = node.config and not node.init_only
        status, _ = self.request("PATCH", path, body="{")
        self.expect(status == (400 if writable else 405),
                    f"PATCH {path} (not JSON): {status}, expected "
                    f"{400 if writable else 405} ({'' if writable else 'not '}writable)")
        if node.kw == "leaf":
            status, values = self.request("OPTIONS", path + "?help=NONE&completion")
            self.expect(status == 200 and values == (node.enums or []),
                        f"{path}: completion {status} {values}, YANG {node.enums}")
            return
        status, own = self.request("OPTIONS", path + "?help=SHOW")
        if node.kw == "list":
            self.expect(status == 200 and own.get("params", {}).get(node.key, {}).get("type")
                        == "key", f"OPTIONS {path}?help=SHOW: key {node.key} missing: {own}")
            element = path + "/" + urllib.parse.quote(keys[node.name], safe="")
            self.key_of = getattr(self, "key_of", {})
            self.key_of[element] = node.key
            status, body = self.request("GET", element)
            self.expect(status == 200, f"GET {element}: {status}")
            if isinstance(body, dict):
                self.extra(element, body, node.children)
            status, own = self.request("OPTIONS", element + "?help=SHOW")
            parent = element
        else:
            parent = path
        if isinstance(own, dict):
            self.extra(parent + "?help=SHOW", own.get("params", {}), node.children)
        for c in node.children:
            self.check(c, parent + "/" + c.name, parent, keys)


def main():
    yang_dir, base, cube = sys.argv[1:4]
    c = Checker(base)
    root = tree(yang_dir)
    keys = {"metric-configs": "x", "labels": "l", "ingress-metrics": "x", "egress-metrics": "x"}
    path = f"/dynmon/{cube}"
    status, body = c.request("GET", path)
    c.expect(status == 200, f"GET {path}: {status}")
    c.extra(path, body, root)
    doc = os.path.join(yang_dir, "..", "..", "docs", "POLYCUBE.md")
    with open(doc) as f:
        text = f.read()
    for name in ADDITIONS:
        c.expect(f"| `{name}` |" in text, f"docs/POLYCUBE.md does not document {name}")
    for n in root:
        c.check(n, f"{path}/{n.name}", path, keys)
    return 1 if c.failures else 0


if __name__ == "__main__":
    sys.exit(main())
