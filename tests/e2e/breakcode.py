#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Makes a dataplane configuration that does not compile, at a line the test knows.

  breakcode.py CONFIG PATH AFTER OUT

Copies CONFIG (Polycube v1.0 or v1.1 JSON) to OUT, inserting into the code of PATH (ingress or
egress; a v1.0 file has only ingress) a line that uses an undeclared identifier, right after the
first line that contains AFTER. The code is otherwise left as it is, CRLF line ends included.
Prints the number of the inserted line, counted as the compiler counts: from 1, a line ending at
each "\\n".
"""
import json
import sys

BAD_LINE = "    this_identifier_is_not_declared += 1;"


def main():
    src, path, after, out = sys.argv[1:5]
    with open(src) as f:
        config = json.load(f)
    holder = config if "code" in config else config[path + "-path"]
    if "code" in config and path != "ingress":
        print("a v1.0 configuration has only an ingress path", file=sys.stderr)
        return 2
    lines = holder["code"].split("\n")
    at = next((i for i, line in enumerate(lines) if after in line), None)
    if at is None:
        print(f"no line contains {after!r}", file=sys.stderr)
        return 2
    # Keep the file's own line end: upstream code ends its lines with "\r\n".
    end = "\r" if lines[at].endswith("\r") else ""
    lines.insert(at + 1, BAD_LINE + end)
    holder["code"] = "\n".join(lines)
    with open(out, "w") as f:
        json.dump(config, f, indent=4)
    print(at + 2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
