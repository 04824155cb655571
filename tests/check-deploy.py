#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The deployment recipes of examples/deploy are what they say they are.

  check-deploy.py DYNMOND SOURCE_DIR [--extract-monitors DIR]

Kubernetes (examples/deploy/kubernetes): every manifest is YAML that the schema below accepts
(the fields and types the API server requires of a Namespace, ConfigMap, DaemonSet and the
Prometheus Operator's PodMonitor), kustomization.yaml lists every manifest, and the DaemonSet
is one dynmond can run in: the host's network, the host's BPF file system at /sys/fs/bpf, the
capabilities of dynmond.service and no other, not privileged, the ConfigMap mounted where --config-dir
says, the REST port the same in the arguments, the container port, the scrape annotations and
the PodMonitor, whose selector picks the DaemonSet's pods; every option it passes is one of
`dynmond --help`. Each .json key of the ConfigMap is a JSON object; --extract-monitors writes
them into DIR, for a test to hand them to a real dynmond (tests/e2e/e2e-deb.sh).

Container (examples/deploy/container): every COPY source exists, the entrypoint is what
install.sh installs, the scripts parse (sh -n), and every option of CMD is dynmond's.

kubectl is not used: `kubectl apply --dry-run=client` asks an API server for its resource
types and its OpenAPI schema, which no test has (docs/DEPLOY.md).
Prints one line per check; exits 1 if any failed.
"""
import json
import os
import re
import subprocess
import sys

import jsonschema
import yaml

DYNMOND, SOURCE = sys.argv[1], sys.argv[2]
EXTRACT = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--extract-monitors" else None
KUBE = os.path.join(SOURCE, "examples", "deploy", "kubernetes")
CONTAINER = os.path.join(SOURCE, "examples", "deploy", "container")
failed = 0


def report(ok, what, detail=""):
    global failed
    print(f"{'ok  ' if ok else 'FAIL'} {what}{'' if ok or not detail else ': ' + detail}")
    failed += not ok


# ---- the schema: what the API server requires of each kind, with the types -----------------------
STR = {"type": "string"}
LABELS = {"type": "object", "additionalProperties": STR}
NAME = {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", "maxLength": 253}
METADATA = {
    "type": "object", "required": ["name"],
    "properties": {"name": NAME, "namespace": NAME, "labels": LABELS, "annotations": LABELS},
}
PORT = {"type": "integer", "minimum": 1, "maximum": 65535}
QUANTITY = {"type": ["string", "integer"]}
CONTAINER_SCHEMA = {
    "type": "object", "required": ["name", "image"],
    "properties": {
        "name": NAME, "image": STR,
        "imagePullPolicy": {"enum": ["Always", "IfNotPresent", "Never"]},
        "args": {"type": "array", "items": STR},
        "command": {"type": "array", "items": STR},
        "env": {"type": "array", "items": {
            "type": "object", "required": ["name"],
            "properties": {"name": STR, "value": STR, "valueFrom": {"type": "object"}}}},
        "ports": {"type": "array", "items": {
            "type": "object", "required": ["containerPort"],
            "properties": {"name": {"type": "string", "maxLength": 15}, "containerPort": PORT,
                           "protocol": {"enum": ["TCP", "UDP", "SCTP"]}}}},
        "volumeMounts": {"type": "array", "items": {
            "type": "object", "required": ["name", "mountPath"],
            "properties": {"name": STR, "mountPath": STR, "readOnly": {"type": "boolean"},
                           "mountPropagation": {"enum": ["None", "HostToContainer",
                                                         "Bidirectional"]}}}},
        "resources": {"type": "object", "properties": {
            "requests": {"type": "object", "additionalProperties": QUANTITY},
            "limits": {"type": "object", "additionalProperties": QUANTITY}}},
        "securityContext": {"type": "object", "properties": {
            "privileged": {"type": "boolean"},
            "allowPrivilegeEscalation": {"type": "boolean"},
            "readOnlyRootFilesystem": {"type": "boolean"},
            "runAsUser": {"type": "integer"},
            "capabilities": {"type": "object", "properties": {
                "add": {"type": "array", "items": STR},
                "drop": {"type": "array", "items": STR}}},
            "seccompProfile": {"type": "object", "required": ["type"], "properties": {
                "type": {"enum": ["RuntimeDefault", "Unconfined", "Localhost"]}}}}},
    },
}
VOLUME = {
    "type": "object", "required": ["name"],
    "properties": {
        "name": NAME,
        "hostPath": {"type": "object", "required": ["path"], "properties": {
            "path": STR, "type": {"enum": ["", "DirectoryOrCreate", "Directory", "FileOrCreate",
                                           "File", "Socket", "CharDevice", "BlockDevice"]}}},
        "configMap": {"type": "object", "required": ["name"], "properties": {"name": NAME}},
        "emptyDir": {"type": "object"},
    },
    "minProperties": 2,
}
SCHEMAS = {
    ("v1", "Namespace"): {"type": "object", "required": ["metadata"],
                          "properties": {"metadata": METADATA}},
    ("v1", "ConfigMap"): {"type": "object", "required": ["metadata"],
                          "properties": {"metadata": METADATA, "data": LABELS}},
    ("apps/v1", "DaemonSet"): {
        "type": "object", "required": ["metadata", "spec"],
        "properties": {"metadata": METADATA, "spec": {
            "type": "object", "required": ["selector", "template"],
            "properties": {
                "selector": {"type": "object", "required": ["matchLabels"],
                             "properties": {"matchLabels": LABELS}},
                "updateStrategy": {"type": "object", "properties": {
                    "type": {"enum": ["RollingUpdate", "OnDelete"]}}},
                "template": {
                    "type": "object", "required": ["metadata", "spec"],
                    "properties": {
                        "metadata": {"type": "object", "required": ["labels"], "properties": {
                            "labels": LABELS, "annotations": LABELS}},
                        "spec": {"type": "object", "required": ["containers"], "properties": {
                            "hostNetwork": {"type": "boolean"},
                            "containers": {"type": "array", "minItems": 1,
                                           "items": CONTAINER_SCHEMA},
                            "volumes": {"type": "array", "items": VOLUME},
                            "tolerations": {"type": "array", "items": {"type": "object"}},
                            "terminationGracePeriodSeconds": {"type": "integer"}}}}}}}},
    },
    ("monitoring.coreos.com/v1", "PodMonitor"): {
        "type": "object", "required": ["metadata", "spec"],
        "properties": {"metadata": METADATA, "spec": {
            "type": "object", "required": ["selector", "podMetricsEndpoints"],
            "properties": {
                "selector": {"type": "object", "required": ["matchLabels"],
                             "properties": {"matchLabels": LABELS}},
                "podMetricsEndpoints": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "required": ["port"],
                    "properties": {"port": STR, "path": STR,
                                   "interval": {"type": "string",
                                                "pattern": r"^[0-9]+(ms|s|m|h)$"}}}}}}},
    },
}


def dynmond_options():
    help_text = subprocess.run([DYNMOND, "--help"], check=True, capture_output=True,
                               text=True).stdout
    return set(re.findall(r"^\s+(--[a-z0-9-]+)", help_text, re.M))


def check_options(what, args, known):
    used = [a.split("=", 1)[0] for a in args if a.startswith("--")]
    unknown = [o for o in used if o not in known]
    report(not unknown, f"{what}: every option is dynmond's", " ".join(unknown))


def option(args, name):
    for a in args:
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return None


# ---- Kubernetes -------------------------------------------------------------------------------
def load_manifests():
    docs = {}
    for f in sorted(os.listdir(KUBE)):
        if not f.endswith(".yaml") or f == "kustomization.yaml":
            continue
        with open(os.path.join(KUBE, f)) as fh:
            for doc in yaml.safe_load_all(fh):
                if doc is not None:
                    docs[(f, doc.get("kind"), doc.get("metadata", {}).get("name"))] = doc
    return docs


def check_schema(docs):
    for (f, kind, name), doc in docs.items():
        schema = SCHEMAS.get((doc.get("apiVersion"), kind))
        if schema is None:
            report(False, f"{f}: {doc.get('apiVersion')} {kind} is a kind the check knows")
            continue
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(doc), key=str)
        report(not errors, f"{f}: {kind} {name} is valid",
               "; ".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:3]))


def check_kustomization():
    with open(os.path.join(KUBE, "kustomization.yaml")) as fh:
        k = yaml.safe_load(fh)
    files = {f for f in os.listdir(KUBE) if f.endswith(".yaml") and f != "kustomization.yaml"}
    report(set(k.get("resources", [])) == files, "kustomization.yaml lists every manifest",
           f"{sorted(k.get('resources', []))} vs {sorted(files)}")


def one(docs, kind):
    found = [d for (_, k, _), d in docs.items() if k == kind]
    report(len(found) == 1, f"one {kind}")
    return found[0] if found else None


def check_daemonset(docs, known):
    ds, cm, pm = one(docs, "DaemonSet"), one(docs, "ConfigMap"), one(docs, "PodMonitor")
    ns = one(docs, "Namespace")
    if not (ds and cm and pm and ns):
        return None
    namespace = ns["metadata"]["name"]
    report(all(d["metadata"].get("namespace") == namespace for d in (ds, cm, pm)),
           f"the DaemonSet, ConfigMap and PodMonitor are in the namespace {namespace}")
    pod = ds["spec"]["template"]
    labels = pod["metadata"]["labels"]
    selector = ds["spec"]["selector"]["matchLabels"]
    report(selector.items() <= labels.items(), "the DaemonSet's selector picks its own pods")
    spec = pod["spec"]
    report(spec.get("hostNetwork") is True, "the host's network namespace (hostNetwork)")
    c = spec["containers"][0]
    sc = c.get("securityContext", {})
    caps = sc.get("capabilities", {})
    with open(os.path.join(SOURCE, "data", "dynmond.service.in")) as fh:
        unit = re.search(r"^CapabilityBoundingSet=(.*)$", fh.read(), re.M).group(1).split()
    unit_caps = {c.removeprefix("CAP_") for c in unit}
    report(set(caps.get("add", [])) == unit_caps,
           "capabilities added: dynmond.service's bounding set and no other",
           f"{caps.get('add')} vs {sorted(unit_caps)}")
    report(caps.get("drop") == ["ALL"], "every other capability dropped")
    report(sc.get("privileged") is not True, "not privileged")
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
    report(all(m["name"] in volumes for m in mounts.values()), "every mount names a volume")
    bpffs = mounts.get("/sys/fs/bpf")
    report(bool(bpffs) and volumes[bpffs["name"]].get("hostPath", {}).get("path") == "/sys/fs/bpf",
           "the host's BPF file system at /sys/fs/bpf (pins outlive the pod)")
    args = c.get("args", [])
    check_options("the DaemonSet's args", args, known)
    config_dir = option(args, "--config-dir") or "/etc/dynmon/monitors.d"
    mount = mounts.get(config_dir)
    report(bool(mount) and volumes[mount["name"]].get("configMap", {}).get("name")
           == cm["metadata"]["name"], f"the ConfigMap is mounted at --config-dir ({config_dir})")
    state = option(args, "--state-dir")
    report(state in mounts and "hostPath" in volumes[mounts[state]["name"]],
           "the state directory is the host's (monitors made at run time survive the pod)")
    rest = option(args, "--rest-address") or ""
    rest_port = int(rest.rsplit(":", 1)[1]) if ":" in rest else None
    ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
    report(rest_port is not None and ports.get("metrics") == rest_port,
           "the container port 'metrics' is --rest-address's", f"{ports} vs {rest}")
    ann = pod["metadata"].get("annotations", {})
    report(ann.get("prometheus.io/scrape") == "true" and ann.get("prometheus.io/port")
           == str(rest_port) and ann.get("prometheus.io/path") == "/metrics",
           "the scrape annotations name the REST port and /metrics")
    report("--rest-allow-writes" not in args, "REST writes stay off on the node's address")
    pm_selector = pm["spec"]["selector"]["matchLabels"]
    report(pm_selector.items() <= labels.items(), "the PodMonitor's selector picks the pods")
    report(all(e["port"] in ports and e.get("path", "/metrics") == "/metrics"
               for e in pm["spec"]["podMetricsEndpoints"]),
           "the PodMonitor scrapes the named port's /metrics")
    return cm


def check_monitors(cm):
    files = {k: v for k, v in cm.get("data", {}).items() if k.endswith(".json")}
    report(bool(files), "the ConfigMap has monitors' files (*.json)")
    for key, text in files.items():
        try:
            ok = isinstance(json.loads(text), dict)
            detail = "not an object"
        except ValueError as e:
            ok, detail = False, str(e)
        report(ok, f"the ConfigMap's {key} is a JSON object", detail)
        if ok and EXTRACT:
            os.makedirs(EXTRACT, exist_ok=True)
            with open(os.path.join(EXTRACT, key), "w") as fh:
                fh.write(text)


# ---- the container image ----------------------------------------------------------------------
def check_container(known):
    with open(os.path.join(CONTAINER, "Containerfile")) as fh:
        text = fh.read()
    for line in re.findall(r"^COPY (?!--from)(.+)$", text.replace("\\\n", " "), re.M):
        sources = line.split()[:-1]
        missing = [s for s in sources if not os.path.exists(os.path.join(SOURCE, s))]
        report(not missing, f"Containerfile: COPY {' '.join(sources)} exists", " ".join(missing))
    froms = re.findall(r"^FROM (\S+)", text, re.M)
    report(all(re.match(r"docker\.io/library/debian:bookworm(-slim)?$", f) for f in froms),
           "Containerfile: Debian 12 images only", " ".join(froms))
    entry = json.loads(re.search(r"^ENTRYPOINT (.+)$", text, re.M).group(1))
    with open(os.path.join(CONTAINER, "install.sh")) as fh:
        install = fh.read()
    report(entry[0] in install, f"the ENTRYPOINT {entry[0]} is what install.sh installs")
    check_options("Containerfile's CMD", json.loads(re.search(r"^CMD (.+)$", text, re.M)
                                                     .group(1)), known)
    for script in ("build-deb.sh", "install.sh", "entrypoint.sh"):
        r = subprocess.run(["sh", "-n", os.path.join(CONTAINER, script)], capture_output=True,
                           text=True)
        report(r.returncode == 0, f"{script} parses (sh -n)", r.stderr.strip())


def main():
    known = dynmond_options()
    docs = load_manifests()
    check_schema(docs)
    check_kustomization()
    cm = check_daemonset(docs, known)
    if cm:
        check_monitors(cm)
    check_container(known)
    sys.exit(1 if failed else 0)


main()
