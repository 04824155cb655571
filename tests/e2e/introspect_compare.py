#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Compares one interface of a live object's introspection with the contract in dbus/*.xml.

  introspect_compare.py CONTRACT.xml LIVE.xml INTERFACE

Compared: methods (argument names, types and directions, in order), signals, properties (type,
access) and every annotation; comments, whitespace and element order among members are not.
One annotation is left out: org.freedesktop.systemd1.Privileged, which sd-bus adds by itself to
methods not marked unprivileged when it talks to a system bus; who may call what is the bus
policy's business (tested by e2e-privilege). Prints the differences; exit 0 when there are none.
"""
import sys
import xml.etree.ElementTree as ET

IGNORED_ANNOTATIONS = {"org.freedesktop.systemd1.Privileged"}


def annotations(element):
    return {a.get("name"): a.get("value") for a in element.findall("annotation")
            if a.get("name") not in IGNORED_ANNOTATIONS}


def args(element, default_direction):
    return [(a.get("name"), a.get("type"), a.get("direction", default_direction))
            for a in element.findall("arg")]


def describe(interface):
    members = {}
    for m in interface.findall("method"):
        members["method " + m.get("name")] = (args(m, "in"), annotations(m))
    for s in interface.findall("signal"):
        members["signal " + s.get("name")] = (args(s, "out"), annotations(s))
    for p in interface.findall("property"):
        members["property " + p.get("name")] = (p.get("type"), p.get("access"), annotations(p))
    members["interface annotations"] = annotations(interface)
    return members


def find_interface(path, name):
    root = ET.parse(path).getroot()
    for interface in root.iter("interface"):
        if interface.get("name") == name:
            return interface
    return None


def main():
    contract_path, live_path, name = sys.argv[1:4]
    contract = find_interface(contract_path, name)
    live = find_interface(live_path, name)
    if contract is None:
        print(f"{contract_path} has no interface {name}")
        return 1
    if live is None:
        print(f"the live object has no interface {name}")
        return 1
    want, got = describe(contract), describe(live)
    differences = 0
    for key in sorted(set(want) | set(got)):
        if key not in got:
            print(f"missing on the live object: {key} {want[key]}")
        elif key not in want:
            print(f"not in the contract: {key} {got[key]}")
        elif want[key] != got[key]:
            print(f"differs: {key}\n  contract: {want[key]}\n  live:     {got[key]}")
        else:
            continue
        differences += 1
    if differences == 0:
        print(f"{name}: {len(want) - 1} members match the contract")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
