#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the example dataplane configurations (examples/NAME.json) from their readable parts
here: NAME.in.json is the configuration with "code-file": "FILE.bpf.c" where the JSON has
"code", and FILE.bpf.c is that code, as C. Edit those, then run this.

  mkexamples.py           (re)writes every examples/NAME.json that has a NAME.in.json here
  mkexamples.py --check   writes nothing; exits 1 and names every NAME.json that differs from
                          what its sources give (the end-to-end tests run this)
"""
import argparse
import glob
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.dirname(HERE)


def expand_path(path):
    """The path object with its code-file read into "code", members kept in their order."""
    out = {}
    for key, value in path.items():
        if key == "code-file":
            with open(os.path.join(HERE, value)) as f:
                out["code"] = f.read()
        else:
            out[key] = value
    return out


def render(skeleton):
    with open(skeleton) as f:
        config = json.load(f)
    for key in ("ingress-path", "egress-path"):
        if config.get(key):
            config[key] = expand_path(config[key])
    return json.dumps(config, indent=4) + "\n"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--check", action="store_true")
    args = p.parse_args()
    skeletons = sorted(glob.glob(os.path.join(HERE, "*.in.json")))
    if not skeletons:
        print(f"mkexamples.py: no *.in.json in {HERE}", file=sys.stderr)
        return 1
    stale = 0
    for skeleton in skeletons:
        name = os.path.basename(skeleton)[: -len(".in.json")]
        target = os.path.join(EXAMPLES, name + ".json")
        text = render(skeleton)
        if args.check:
            try:
                with open(target) as f:
                    current = f.read()
            except FileNotFoundError:
                current = None
            if current != text:
                stale += 1
                print(f"examples/{name}.json is not what examples/src/{name}.in.json and its "
                      "code give: run examples/src/mkexamples.py")
            continue
        with open(target, "w") as f:
            f.write(text)
        print(f"wrote examples/{name}.json")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
