#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Runs a command in the sandbox a systemd service unit describes, as far as a test can build it
without systemd as PID 1, so that the tests run dynmond the way dynmond.service will. Reads the
unit's [Service] section and applies, then execs the command (same PID):

  CapabilityBoundingSet=   the bounding set (every other capability dropped; ambient and
                           inheritable sets cleared)
  NoNewPrivileges=yes      PR_SET_NO_NEW_PRIVS
  MemoryDenyWriteExecute=  PR_SET_MDWE (the kernel's form of systemd's seccomp rule: no memory
                           both writable and executable, for the command and its children)
  RestrictAddressFamilies= a seccomp filter: socket()/socketpair() of any other family fail with
                           EAFNOSUPPORT, as under systemd
  ProtectSystem=strict     every mount read-only but /proc, /dev and /sys
  ProtectKernelTunables=   /sys read-only too
  PrivateTmp=yes           an empty /tmp and /var/tmp of its own
  ProtectHome=yes          /home, /root and /run/user empty and read-only
  ReadWritePaths=          writable again (a leading "-": ignored when missing)
  StateDirectory=          --state-directory DIR stands for /var/lib/NAME: writable, and
                           $STATE_DIRECTORY names it
  LimitMEMLOCK=, UMask=    the limit and the umask
  the environment          only PATH, STATE_DIRECTORY, LISTEN_FDS/LISTEN_PID/LISTEN_FDNAMES,
                           NOTIFY_SOCKET and what --env names

The rest (PrivateDevices=, ProtectKernelModules=, ProtectClock=, RestrictNamespaces=,
LockPersonality=, SystemCallArchitectures=, ...) needs systemd and is not applied.

  unit_sandbox.py UNIT [--without CAP_X]... [--bind SRC:DST]... [--state-directory DIR]
                  [--env NAME]... -- COMMAND [ARGS...]

--without drops a capability the unit keeps (to show that it is needed); --bind mounts SRC at DST
inside the sandbox, writable (the tests' own BPF file system at /sys/fs/bpf, which `ip netns exec`
hides). It needs root, and an x86-64 kernel with PR_SET_MDWE (6.3) when the unit asks for it.
"""
import argparse
import ctypes
import os
import platform
import resource
import socket
import struct
import sys

# linux/capability.h, in order.
CAPS = ("CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP "
        "LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER "
        "SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE "
        "SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP "
        "MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF "
        "CHECKPOINT_RESTORE").split()

PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
PR_SET_MDWE = 65
PR_MDWE_REFUSE_EXEC_GAIN = 1
SECCOMP_MODE_FILTER = 2
CLONE_NEWNS = 0x00020000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
# The flags a read-only remount of a bind mount must keep (the kernel refuses to clear them).
MS_KEEP = MS_NOSUID | MS_NODEV | MS_NOEXEC
MOUNT_FLAGS = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC}

AUDIT_ARCH_X86_64 = 0xC000003E
NR_SOCKET, NR_SOCKETPAIR = 41, 53
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                       ctypes.c_void_p]
libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                       ctypes.c_ulong]


def check(ret, what):
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def mount(src, dst, fstype, flags, data=None):
    check(libc.mount(src and src.encode(), dst.encode(), fstype and fstype.encode(), flags,
                     data and ctypes.c_char_p(data.encode())), f"mount {src or fstype} on {dst}")


def prctl(option, arg2=0, arg3=0):
    check(libc.prctl(option, arg2, arg3, 0, 0), f"prctl({option})")


def read_service(path):
    """The [Service] settings: name -> list of values, in order (lists accumulate)."""
    settings, section = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line
                continue
            key, _, value = line.partition("=")
            if section == "[Service]":
                settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def setting(settings, key, default=""):
    return settings.get(key, [default])[-1]


def yes(settings, key):
    return setting(settings, key).lower() in ("yes", "true", "1", "on")


def mounts():
    """(mount point, flags to keep) of every mount, parents first."""
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            point = fields[4].encode().decode("unicode_escape")
            keep = sum(MOUNT_FLAGS.get(o, 0) for o in fields[5].split(","))
            out.append((point, keep))
    return out


def under(path, top):
    return path == top or path.startswith(top.rstrip("/") + "/")


def protect_system(settings, writable):
    """ProtectSystem=strict (and ProtectKernelTunables=): read-only but the API file systems."""
    mode = setting(settings, "ProtectSystem", "no")
    if mode == "no":
        return
    if mode != "strict":
        sys.exit(f"unit_sandbox.py: ProtectSystem={mode} is not emulated")
    api = ["/proc", "/dev"] + ([] if yes(settings, "ProtectKernelTunables") else ["/sys"])
    for point, keep in mounts():
        if any(under(point, a) for a in api) or any(under(point, w) for w in writable):
            continue
        try:
            mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | keep)
        except OSError as e:
            sys.exit(f"unit_sandbox.py: cannot make {point} read-only: {e}")


def private_dirs(settings):
    if yes(settings, "PrivateTmp"):
        for d in ("/tmp", "/var/tmp"):
            if os.path.isdir(d):
                mount("tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
    home = setting(settings, "ProtectHome", "no")
    if home not in ("no", "yes"):
        sys.exit(f"unit_sandbox.py: ProtectHome={home} is not emulated")
    if home == "yes":
        for d in ("/home", "/root", "/run/user"):
            if os.path.isdir(d):
                mount("tmpfs", d, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "mode=0755")


def bind_writable(fd, dst):
    """Mounts the directory open as `fd` (an O_PATH descriptor taken before anything was hidden)
    at dst, writable."""
    os.makedirs(dst, exist_ok=True)  # inside a new /tmp it has to be made again
    mount(f"/proc/self/fd/{fd}", dst, None, MS_BIND | MS_REC)
    mount(None, dst, None, MS_REMOUNT | MS_BIND)


def capabilities(settings, without):
    names = " ".join(settings.get("CapabilityBoundingSet", [])).split()
    keep = set()
    for name in names:
        if not name.startswith("CAP_") or name[4:] not in CAPS:
            sys.exit(f"unit_sandbox.py: unknown capability {name}")
        keep.add(CAPS.index(name[4:]))
    for name in without:
        if name not in names:
            sys.exit(f"unit_sandbox.py: --without {name}: the unit does not keep it")
        keep.discard(CAPS.index(name[4:]))
    if not names:
        return
    last = int(open("/proc/sys/kernel/cap_last_cap").read())
    for cap in range(last + 1):
        if cap not in keep:
            prctl(PR_CAPBSET_DROP, cap)
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    # capset(2) of version 3: keep effective and permitted, clear inheritable.
    header = struct.pack("Ii", 0x20080522, 0)
    data = (ctypes.c_uint32 * 6)()
    check(libc.syscall(125, header, data), "capget")  # SYS_capget
    data[2] = data[5] = 0
    check(libc.syscall(126, header, data), "capset")  # SYS_capset


def bpf_stmt(code, k):
    return struct.pack("HBBI", code, 0, 0, k)


def bpf_jeq(k, jt, jf):
    return struct.pack("HBBI", 0x15, jt, jf, k)  # BPF_JMP | BPF_JEQ | BPF_K


def restrict_address_families(settings):
    names = " ".join(settings.get("RestrictAddressFamilies", [])).split()
    if not names:
        return
    if names[0].startswith("~"):
        sys.exit("unit_sandbox.py: a deny list of address families is not emulated")
    families = [int(getattr(socket, n)) for n in names]
    LD_ABS_W, RET = 0x20, 0x06
    allow, deny = 0x7FFF0000, 0x00050000 | 97  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO|EAFNOSUPPORT
    n = len(families)
    prog = [
        bpf_stmt(LD_ABS_W, 4),  # seccomp_data.arch
        bpf_jeq(AUDIT_ARCH_X86_64, 1, 0),
        bpf_stmt(RET, 0),  # SECCOMP_RET_KILL_THREAD: not a native call
        bpf_stmt(LD_ABS_W, 0),  # seccomp_data.nr
        bpf_jeq(NR_SOCKET, 2, 0),
        bpf_jeq(NR_SOCKETPAIR, 1, 0),
        bpf_stmt(RET, allow),
        bpf_stmt(LD_ABS_W, 16),  # the low half of args[0]: the family
    ]
    for i, family in enumerate(families):
        prog.append(bpf_jeq(family, n - i, 0))
    prog += [bpf_stmt(RET, deny), bpf_stmt(RET, allow)]
    code = ctypes.create_string_buffer(b"".join(prog))
    fprog = struct.pack("HxxxxxxQ", len(prog), ctypes.addressof(code))
    fprog_buf = ctypes.create_string_buffer(fprog)
    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog_buf))


def limits(settings):
    memlock = setting(settings, "LimitMEMLOCK")
    if memlock:
        value = resource.RLIM_INFINITY if memlock == "infinity" else int(memlock)
        try:
            resource.setrlimit(resource.RLIMIT_MEMLOCK, (value, value))
        except ValueError:
            # Raising the hard limit takes CAP_SYS_RESOURCE, which systemd has and a container
            # may not: the soft limit goes as high as it can.
            hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)[1]
            resource.setrlimit(resource.RLIMIT_MEMLOCK, (hard, hard))
            print(f"unit_sandbox.py: LimitMEMLOCK={memlock} not possible here (no "
                  f"CAP_SYS_RESOURCE): {hard} bytes", file=sys.stderr)
    umask = setting(settings, "UMask")
    if umask:
        os.umask(int(umask, 8))


def environment(args):
    env = {"PATH": DEFAULT_PATH}
    if args.state_directory:
        env["STATE_DIRECTORY"] = args.state_directory
    for name in ["LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "NOTIFY_SOCKET"] + args.env:
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def bind_read_only(fd, dst):
    """Mounts the directory open as `fd` at dst, read-only: the build tree stands in for /usr,
    and a checkout under /tmp would otherwise vanish behind PrivateTmp."""
    os.makedirs(dst, exist_ok=True)
    mount(f"/proc/self/fd/{fd}", dst, None, MS_BIND | MS_REC)
    mount(None, dst, None, MS_REMOUNT | MS_BIND | MS_RDONLY)


def writable_dirs(args, settings):
    """(O_PATH fd, where it goes) of every directory that stays writable: held open in the new
    namespace before new mounts hide them (a stand-in under /tmp, say)."""
    writable = []
    for b in args.bind:
        src, _, dst = b.partition(":")
        writable.append((os.open(src, os.O_PATH | os.O_DIRECTORY), dst))
    if args.state_directory:
        writable.append((os.open(args.state_directory, os.O_PATH | os.O_DIRECTORY),
                         args.state_directory))
    for path in " ".join(settings.get("ReadWritePaths", [])).split():
        optional, path = path.startswith("-"), path.lstrip("-")
        if any(dst == path for _, dst in writable):
            continue
        if not os.path.exists(path):
            if optional:
                continue
            sys.exit(f"unit_sandbox.py: ReadWritePaths={path}: no such directory")
        writable.append((os.open(path, os.O_PATH | os.O_DIRECTORY), path))
    return writable


def main():
    p = argparse.ArgumentParser()
    p.add_argument("unit")
    p.add_argument("--without", action="append", default=[])
    p.add_argument("--bind", action="append", default=[])
    p.add_argument("--bind-ro", action="append", default=[])
    p.add_argument("--state-directory")
    p.add_argument("--env", action="append", default=[])
    p.add_argument("command", nargs="+")
    args = p.parse_args()
    if platform.machine() != "x86_64":
        sys.exit("unit_sandbox.py: only x86-64 is emulated")
    settings = read_service(args.unit)

    check(libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    writable = writable_dirs(args, settings)
    read_only = [(os.open(d, os.O_PATH | os.O_DIRECTORY), d) for d in args.bind_ro]
    protect_system(settings, [dst for _, dst in writable])
    private_dirs(settings)
    for fd, dst in read_only:
        bind_read_only(fd, dst)
        os.close(fd)
    for fd, dst in writable:
        bind_writable(fd, dst)
        os.close(fd)

    limits(settings)
    capabilities(settings, args.without)
    if yes(settings, "NoNewPrivileges"):
        prctl(PR_SET_NO_NEW_PRIVS, 1)
    if yes(settings, "MemoryDenyWriteExecute"):
        prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN)
    restrict_address_families(settings)
    os.execve(args.command[0], args.command, environment(args))


if __name__ == "__main__":
    main()
