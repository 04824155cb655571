#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Sends the HTTP requests Polycube's polycubectl sends, for e2e-polycubectl.sh: polycubectl
cannot be built here (it needs upstream's source and Go modules), so this is its request side,
written from how it behaves (src/polycubectl/cliargs, aliases, httprequest and the bash
completion script upstream): the URL, method and body it makes of its arguments, and Go's
client following redirects (307/308 keep the method and the body, and add a Referer).

  pcctl.py BASE ARGS...        as `polycubectl ARGS...` with url BASE (http://H:P/polycube/v1/):
                               prints "METHOD URL BODY" of each request sent on stderr, the last
                               answer's body on stdout; exits 0 on 2xx, 2 otherwise (as
                               polycubectl's ErrBadStatusCode)
  pcctl.py --complete BASE LINE
                               as the bash completion script on the command line LINE (the
                               word being typed last; a trailing space starts a new one):
                               prints the candidates, one per line
"""
import http.client
import json
import sys
import urllib.parse

COMMANDS = ("add", "set", "show", "del")


def parse(args):
    """polycubectl's ParseCLIArgs: path args, one command, body args k=v, '?' for help."""
    path, body, command, is_help = [], {}, "", not args
    for i, arg in enumerate(args):
        if arg in COMMANDS:
            if command:
                raise SystemExit(f"Multiple commands found: {arg} and {command}")
            command = arg
        elif arg.startswith("-"):
            continue  # -json, -yaml...: output formats, the request is the same
        elif "=" in arg:
            k, v = arg.split("=", 1)
            body[k] = v
        elif arg == "?":
            if i != len(args) - 1:
                raise SystemExit("'?' must be the last argument")
            is_help = True
        else:
            path.append(arg)
    return {"path": path, "body": body, "command": command, "help": is_help}


def aliases(cli):
    """The aliases that turn a command into another request (aliases.go)."""
    p = cli["path"]
    if not p:
        return cli
    if p[0] == "version" and len(p) == 1 and not cli["help"]:
        cli["command"] = "show"
    elif p[0] in ("netdevs", "cubes", "topology") and len(p) == 1 and not cli["command"] \
            and not cli["help"]:
        cli["command"] = "show"
    elif p[0] == "attach" and not cli["help"]:
        if len(p) < 3:
            raise SystemExit("Bad syntax, usage: attach cube port [position=...]")
        cli["body"] = dict(cli["body"], cube=p[1], port=p[2])
        cli.update(command="add", path=["attach"])
    elif p[0] == "detach" and not cli["help"]:
        if len(p) != 3:
            raise SystemExit("Bad syntax, usage: detach cube port")
        cli.update(command="add", body={"cube": p[1], "port": p[2]}, path=["detach"])
    return cli


def go_value(v):
    """strconv.Atoi, then ParseFloat, then ParseBool, else the string (buildBody)."""
    try:
        return int(v)
    except ValueError:
        pass
    try:
        return float(v)
    except ValueError:
        pass
    if v in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if v in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    return v


def request_of(cli):
    url = "".join(urllib.parse.quote(a, safe="") + "/" for a in cli["path"])
    if cli["help"]:
        url = url[:-1] + "?help=" + (cli["command"].upper() or "NONE")
    method = {"add": "POST", "": "POST", "set": "PATCH", "show": "GET", "del": "DELETE"}[
        cli["command"]]
    if cli["help"]:
        method = "OPTIONS"
    body = b""
    if not cli["help"] and cli["command"] in ("add", "set", ""):
        if len(cli["body"]) == 1 and cli["command"] == "set":
            # SingleParameterWorkaround: the parameter in the URL, its value bare in the body
            (k, v), = cli["body"].items()
            url += k + "/"
            value = go_value(v)
            if v == "":
                body = b'""'
            elif isinstance(value, (int, float, bool)) or (v[0] == '"' or v[-1] == '"'):
                body = v.encode()
            else:
                body = json.dumps(v).encode()
        else:
            body = json.dumps({k: go_value(v) for k, v in cli["body"].items()}).encode()
    return method, url, body


def send(method, url, body, referer=None):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    headers = {"User-Agent": "Go-http-client/1.1"}
    if method == "POST":
        headers["Content-Type"] = "application/json"
    if referer:
        headers["Referer"] = referer
    target = u.path + ("?" + u.query if u.query else "")
    conn.request(method, target, body=body if method != "GET" else None, headers=headers)
    resp = conn.getresponse()
    return resp.status, resp.getheader("Location"), resp.read()


def perform(method, url, body):
    """Go's http.Client: up to 10 redirects; 307 and 308 keep the method and the body."""
    referer = None
    for _ in range(10):
        print(f"{method} {url} {body.decode()}", file=sys.stderr)
        status, location, answer = send(method, url, body, referer)
        if status not in (301, 302, 303, 307, 308) or not location:
            return status, answer
        referer, url = url, urllib.parse.urljoin(url, location)
        if status in (301, 302, 303) and method not in ("GET", "HEAD"):
            method, body = "GET", b""
    raise SystemExit("stopped after 10 redirects")


def complete(base, line):
    """The bash completion script: the words but the current one make the URL."""
    words = line.split()
    cur = "" if line.endswith(" ") else (words[-1] if words else "")
    url0, help_type = "", "NONE"
    for x in words:
        if x == cur or "=" in x or ":" in x or x == "polycubectl":
            continue
        if x in COMMANDS:
            help_type = x.upper()
            continue
        url0 += urllib.parse.quote(x, safe="-_.~") + "/"
    if "=" in cur:
        url0 += cur.split("=", 1)[0] + "/"
    url0 = url0[:-1]
    status, answer = perform("OPTIONS", f"{base}{url0}?help={help_type}&completion", b"")
    if status >= 400:  # curl -f: no completion
        return 1
    for c in json.loads(answer):
        print(c)
    return 0


def main():
    if sys.argv[1] == "--complete":
        return complete(sys.argv[2], sys.argv[3])
    base = sys.argv[1]
    method, url, body = request_of(aliases(parse(sys.argv[2:])))
    status, answer = perform(method, base + url, body)
    print(f"{status}", file=sys.stderr)
    sys.stdout.write(answer.decode())
    return 0 if 200 <= status < 300 else 2


if __name__ == "__main__":
    sys.exit(main())
