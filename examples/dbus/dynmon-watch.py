#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""dynmond from Python (python3-dbus and python3-gi, from Debian), as any user: lists the
monitors, then follows them — a line per monitor created, deleted or changed — and prints a
monitor's metrics whenever it is attached.

  dynmon-watch.py [--list] [--events N] [--timeout S]

--list prints the monitors and exits; --events stops after N events, --timeout after S seconds
(exit status 1 if fewer than N came). DBUS_SYSTEM_BUS_ADDRESS selects another bus.
"""
import argparse
import json
import sys

import dbus
import dbus.mainloop.glib
from gi.repository import GLib

DEST = "org.polycube.Dynmon"
MANAGER_PATH = "/org/polycube/Dynmon"
MONITOR = "org.polycube.Dynmon.Monitor"
OBJECT_MANAGER = "org.freedesktop.DBus.ObjectManager"
PROPERTIES = "org.freedesktop.DBus.Properties"


class Watcher:
    def __init__(self, bus, events):
        self.bus, self.left, self.names = bus, events, {}
        self.loop = GLib.MainLoop()

    def monitors(self):
        """(path, properties) of every monitor, from the ObjectManager."""
        manager = self.bus.get_object(DEST, MANAGER_PATH)
        objects = manager.GetManagedObjects(dbus_interface=OBJECT_MANAGER)
        for path, interfaces in sorted(objects.items()):
            if MONITOR in interfaces:
                self.names[path] = str(interfaces[MONITOR]["Name"])
                yield path, interfaces[MONITOR]

    def metrics(self, path):
        """The monitor's metrics: the Metrics property holds them as JSON, read at every Get."""
        monitor = self.bus.get_object(DEST, path)
        return json.loads(monitor.Get(MONITOR, "Metrics", dbus_interface=PROPERTIES))

    def event(self, line):
        print(line, flush=True)
        if self.left is not None:
            self.left -= 1
            if self.left <= 0:
                self.loop.quit()

    def on_added(self, path, interfaces):
        if MONITOR in interfaces:
            self.names[path] = str(interfaces[MONITOR]["Name"])
            self.event(f"added {self.names[path]}")

    def on_removed(self, path, interfaces):
        if MONITOR in interfaces:
            self.event(f"removed {self.names.pop(path, path)}")

    def on_changed(self, interface, changed, invalidated, path=None):
        if interface != MONITOR:
            return
        name = self.names.get(path, path)
        props = " ".join(f"{k}={v}" for k, v in sorted(changed.items()))
        self.event(f"changed {name} {props}")
        if changed.get("State") == "attached":
            counts = {m["name"]: m["value"] for m in self.metrics(path).get("ingress-metrics", [])}
            print(f"metrics {name} {json.dumps(counts, sort_keys=True)}", flush=True)

    def subscribe(self):
        self.bus.add_signal_receiver(self.on_added, "InterfacesAdded", OBJECT_MANAGER, DEST,
                                     MANAGER_PATH)
        self.bus.add_signal_receiver(self.on_removed, "InterfacesRemoved", OBJECT_MANAGER, DEST,
                                     MANAGER_PATH)
        self.bus.add_signal_receiver(self.on_changed, "PropertiesChanged", PROPERTIES, DEST,
                                     path_keyword="path")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--events", type=int)
    ap.add_argument("--timeout", type=float)
    args = ap.parse_args()

    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    w = Watcher(dbus.SystemBus(), args.events)
    w.subscribe()  # before listing, so that no change falls between the two
    for path, props in w.monitors():
        print(f"monitor {props['Name']} interface={props['Interface']} state={props['State']}",
              flush=True)
    if args.list:
        return 0
    print("watching", flush=True)
    if args.timeout:
        GLib.timeout_add(int(args.timeout * 1000), w.loop.quit)
    w.loop.run()
    return 1 if w.left else 0


if __name__ == "__main__":
    sys.exit(main())
