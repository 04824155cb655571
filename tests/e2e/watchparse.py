#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Reads what `dynmonctl watch` printed and checks its layout: each refresh is a title line
("NAME: every SECs, refresh N, HH:MM:SS", N counting from 1), a column header, then one row per
value. On a terminal (--tty) every refresh starts by clearing the screen; otherwise nothing in
the output is an escape sequence and refreshes are separated by a blank line.

  watchparse.py [--tty] NAME < OUTPUT

Prints one line per row: "REFRESH PATH METRIC ELEMENT VALUE RATE" (RATE "-" when there is
none), and exits 1 with the reason when the layout is wrong.
"""
import re
import sys

CLEAR = "\033[H\033[2J"
HEADER = ["PATH", "METRIC", "ELEMENT", "VALUE", "RATE/s"]


def refreshes(text, tty):
    """The refreshes' lines, the layout between them checked."""
    if tty:
        text = text.replace("\r\n", "\n")
        if not text.startswith(CLEAR):
            raise ValueError("the output does not start by clearing the screen")
        return [chunk.rstrip("\n").split("\n") for chunk in text.split(CLEAR)[1:]]
    if "\033" in text:
        raise ValueError("an escape sequence in output that is no terminal")
    return [chunk.split("\n") for chunk in text.rstrip("\n").split("\n\n")]


def main():
    args = sys.argv[1:]
    tty = args[:1] == ["--tty"]
    name = args[-1]
    title = re.compile(rf"^{re.escape(name)}: every [0-9.]+s, refresh (\d+), \d\d:\d\d:\d\d$")
    try:
        chunks = refreshes(sys.stdin.read(), tty)
        for n, lines in enumerate(chunks, 1):
            m = title.match(lines[0]) if lines else None
            if not m or int(m.group(1)) != n:
                raise ValueError(f"refresh {n}: title line {lines[:1]}")
            if len(lines) < 2 or lines[1].split() != HEADER:
                raise ValueError(f"refresh {n}: column header {lines[1:2]}")
            for row in lines[2:]:
                fields = row.split()
                if len(fields) != 5:
                    raise ValueError(f"refresh {n}: row {row!r}")
                print(n, *fields)
    except ValueError as e:
        print(f"not watch's layout: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
