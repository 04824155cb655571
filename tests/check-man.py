#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The man pages render clean and say what the binaries and sources say.

  check-man.py BUILD_DIR SOURCE_DIR

Each page (BUILD_DIR/man/*.[1-8], built from man/*.scd) must render with groff without a
warning (-ww), and its text must name:
  dynmond(8)             every option of `dynmond --help`
  dynmonctl(1)           every option and command of `dynmonctl --help`
  dynmon-injector(1)     every option of `dynmon-injector --help`
  org.polycube.Dynmon(5) every error of `dynmond --list-errors`, every method, property and
                         signal of dbus/*.xml
  dynmon-rest(7)         every route of service/rest/route.c (METHOD PATH), every HTTP status
                         of `dynmond --list-errors`
  dynmon.json(5)         every member and keyword of the tables in service/config/config*.c
Prints one line per check; exits 1 if any failed.
"""
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

BUILD, SOURCE = sys.argv[1], sys.argv[2]
PAGES = ["dynmond.8", "dynmonctl.1", "dynmon-injector.1", "dynmon.json.5",
         "org.polycube.Dynmon.5", "dynmon-rest.7"]
failed = 0


def report(ok, what, detail=""):
    global failed
    print(f"{'ok  ' if ok else 'FAIL'} {what}{'' if ok or not detail else ': ' + detail}")
    failed += not ok


def output(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def render(page):
    """groff's warnings (all of them, -ww) and the page as plain text: no hyphenation, lines
    long enough that no word is split, no bold or underline."""
    path = os.path.join(BUILD, "man", page)
    warn = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", path],
                          capture_output=True, text=True)
    text = subprocess.run(["groff", "-man", "-Tascii", "-rHY=0", "-rLL=1000n", "-P-cbou", path],
                          check=True, capture_output=True, text=True).stdout
    return (warn.returncode, warn.stderr.strip()), text


def names(text, words, page, kind):
    for w in words:
        found = re.search(r"(?<![\w.-])" + re.escape(w) + r"(?![\w-])", text)
        report(found, f"{page} names the {kind} {w}")


def help_options(binary):
    """Options from the option column of --help lines that start with a dash."""
    opts = []
    for line in output(binary, "--help").splitlines():
        if not re.match(r"\s+-", line):
            continue
        spec = re.split(r"\s{2,}", line.strip())[0]
        opts += [o for o in re.findall(r"--?[A-Za-z][\w-]*", spec) if o not in opts]
    return opts


def help_commands(binary):
    cmds, inside = [], False
    for line in output(binary, "--help").splitlines():
        if line.startswith("Commands:"):
            inside = True
        elif inside and not line.strip():
            break
        elif inside and (m := re.match(r"  ([a-z][\w-]*)", line)):
            cmds.append(m.group(1))
    return cmds


def errors():
    return [line.split("\t")[:2] for line in output(DYNMOND, "--list-errors").splitlines()]


def dbus_members():
    out = []
    for f in sorted(os.listdir(os.path.join(SOURCE, "dbus"))):
        if f.endswith(".xml"):
            root = ET.parse(os.path.join(SOURCE, "dbus", f)).getroot()
            out += [e.get("name") for e in root.iter() if e.tag in ("method", "property", "signal")]
    return out


def routes():
    """METHOD PATH of every entry of route.c's table; the path's macros (BASE, MONITOR...) are
    string literals and other such macros, joined."""
    src = open(os.path.join(SOURCE, "service/rest/route.c")).read()
    macros = {}

    def expand(expr):
        return "".join(macros.get(part, part.strip('"'))
                       for part in re.findall(r'[A-Z_]+|"[^"]*"', expr))

    for name, expr in re.findall(r'^#define ([A-Z_]+) ((?:[A-Z_]+|"[^"]*"|\s)+)$', src, re.M):
        macros[name] = expand(expr)
    table = src[src.index("route_table[]"):]
    table = table[:table.index("};")]
    return [f"{method} {expand(expr)}"
            for method, expr in re.findall(r'\{ROUTE_([A-Z]+),\s*([^,]*),', table)]


def config_keywords():
    cdir = os.path.join(SOURCE, "service/config")
    src = "".join(open(os.path.join(cdir, f)).read() for f in sorted(os.listdir(cdir))
                  if f.startswith("config") and f.endswith(".c"))
    words = []
    for body in re.findall(
            r"static const char \*const \w+_(?:members|label_names)\[\]\s*=\s*\{([^}]*)\}", src):
        words += re.findall(r'"([^"]+)"', body)
    words += re.findall(r'\[DM_\w+\]\s*=\s*"([^"]+)"', src)
    return sorted(set(words))


DYNMOND = os.path.join(BUILD, "service", "dynmond")
texts = {}
for page in PAGES:
    (rc, warnings), texts[page] = render(page)
    report(rc == 0 and not warnings, f"{page} renders without a warning", warnings)

names(texts["dynmond.8"], help_options(DYNMOND), "dynmond(8)", "option")
ctl = os.path.join(BUILD, "cli", "dynmonctl")
names(texts["dynmonctl.1"], help_options(ctl), "dynmonctl(1)", "option")
names(texts["dynmonctl.1"], help_commands(ctl), "dynmonctl(1)", "command")
names(texts["dynmon-injector.1"], help_options(os.path.join(BUILD, "cli", "dynmon-injector")),
      "dynmon-injector(1)", "option")
errs = errors()
names(texts["org.polycube.Dynmon.5"], [e[0] for e in errs], "org.polycube.Dynmon(5)", "error")
names(texts["org.polycube.Dynmon.5"], dbus_members(), "org.polycube.Dynmon(5)", "member")
for route in routes():
    found = re.search(re.escape(route) + r"(?![\w/{}-])", texts["dynmon-rest.7"])
    report(found, f"dynmon-rest(7) names the route {route}")
names(texts["dynmon-rest.7"], sorted({e[1] for e in errs}), "dynmon-rest(7)", "status")
names(texts["dynmon.json.5"], config_keywords(), "dynmon.json(5)", "keyword")

print(f"check-man: {failed} failed")
sys.exit(1 if failed else 0)
