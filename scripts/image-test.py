#!/usr/bin/env python3
"""Runs the Dockerfile's runtime stage without a Docker engine, as closely as one machine allows.

No container engine runs here and no registry can be reached, so the image cannot be built.
What can be checked is the stage that ships: its base (`debian:<suite>-slim`) is made with
debootstrap's minbase variant (what the slim images are made from), its RUN, COPY, ENV, USER
and WORKDIR are carried out in order in a chroot, and its ENTRYPOINT and CMD are started as
its USER in namespaces of their own (network, mounts, processes), as a container would run.
Then: the HEALTHCHECK command must succeed within its start period and retries, the service
must answer on the EXPOSEd port with the demo's 48 areas from a database it created in its
WORKDIR as that user, it must stop with status 0 on SIGTERM, and the root file system must
stay small. The build stage's toolchain image cannot be pulled either: the binary it copies
is built here by `cargo build --release --locked` and stripped, as that stage does.

    scripts/image-test.py                   # needs root, debootstrap, unshare (util-linux)

Run by .ci/run. The debootstrapped base is kept in target/image-test/ for the next run.
"""
import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
WORK = os.path.join(TARGET, "image-test")
# the stand-in for debian:bookworm-slim is 83 MB; libssl3 and the binary bring it to 109 MB
MAX_IMAGE_MB = 150


def fail(message):
    print(f"image-test: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def parse_dockerfile(path):
    """The Dockerfile as stages: [(from_line, name, [(instruction, arguments)])]."""
    lines, logical = [], ""
    for raw in open(path, encoding="utf-8"):
        line = raw.rstrip("\n")
        if line.lstrip().startswith("#"):  # comments go, within continued lines too
            continue
        if line.endswith("\\"):
            logical += line[:-1] + " "
            continue
        logical += line
        if logical.strip():
            lines.append(logical.strip())
        logical = ""
    stages = []
    for line in lines:
        instruction, _, arguments = line.partition(" ")
        instruction, arguments = instruction.upper(), arguments.strip()
        if instruction == "FROM":
            words = arguments.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append((words[0], name, []))
        elif not stages:
            fail(f"{instruction} before the first FROM")
        else:
            stages[-1][2].append((instruction, arguments))
    return stages


def exec_form(arguments, what):
    try:
        argv = json.loads(arguments)
    except json.JSONDecodeError:
        fail(f"{what} is not in exec form (a JSON array): {arguments}")
    if not (isinstance(argv, list) and all(isinstance(a, str) for a in argv)):
        fail(f"{what} is not a JSON array of strings: {arguments}")
    return argv


def env_pairs(arguments):
    """ENV k=v k2="v 2" (the legacy `ENV k v` form too)."""
    words = shlex.split(arguments)
    if words and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}
    return dict(w.split("=", 1) for w in words)


def healthcheck(arguments):
    """(options, argv) of HEALTHCHECK [--opt=value…] CMD [...]."""
    options, _, command = arguments.partition("CMD")
    opts = dict(o.lstrip("-").split("=", 1) for o in options.split())
    return opts, exec_form(command.strip(), "HEALTHCHECK CMD")


def seconds(text):
    match = re.fullmatch(r"(\d+)(ms|s|m)", text)
    if not match:
        fail(f"cannot read the duration {text!r}")
    n, unit = int(match.group(1)), match.group(2)
    return n / 1000 if unit == "ms" else n * 60 if unit == "m" else n


def run(argv, **kw):
    print("+", " ".join(shlex.quote(a) for a in argv), flush=True)
    return subprocess.run(argv, check=True, **kw)


def base_rootfs(image):
    """A debootstrapped stand-in for debian:<suite>-slim, made once and kept."""
    match = re.fullmatch(r"debian:([a-z]+)-slim", image)
    if not match:
        fail(f"the runtime stage is FROM {image}; this test knows debian:<suite>-slim only")
    suite = match.group(1)
    base = os.path.join(WORK, f"base-{suite}")
    if not os.path.isfile(os.path.join(base, "etc", "debian_version")):
        shutil.rmtree(base, ignore_errors=True)
        os.makedirs(WORK, exist_ok=True)
        run(["debootstrap", "--variant=minbase", suite, base, "http://deb.debian.org/debian"], stdout=subprocess.DEVNULL)
        slim(base)
    return base


# What debuerreotype does to make the -slim images (its .slimify-excludes and the apt and
# dpkg settings the Docker images carry), so that the size measured here is the image's.
SLIM_DPKG = """path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/man/*
"""
DOCKER_CLEAN = """DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
"""


def slim(base):
    with open(os.path.join(base, "etc/dpkg/dpkg.cfg.d/docker"), "w") as f:
        f.write(SLIM_DPKG)
    with open(os.path.join(base, "etc/apt/apt.conf.d/docker-clean"), "w") as f:
        f.write(DOCKER_CLEAN)
    with open(os.path.join(base, "etc/apt/apt.conf.d/docker-no-languages"), "w") as f:
        f.write('Acquire::Languages "none";\n')
    rules = [line.split(" ", 1) for line in SLIM_DPKG.splitlines()]
    keep = [pattern for rule, pattern in rules if rule == "path-include"]
    # what dpkg would not have unpacked with these rules (each pattern is a folder's contents)
    for folder in (os.path.dirname(pattern) for rule, pattern in rules if rule == "path-exclude"):
        for dirpath, _, files in os.walk(os.path.join(base, folder.lstrip("/"))):
            for name in files:
                path = os.path.join(dirpath, name)
                if not any(fnmatch.fnmatch("/" + os.path.relpath(path, base), k) for k in keep):
                    os.remove(path)
    for cache in ["var/cache/apt", "var/lib/apt/lists"]:
        for dirpath, _, files in os.walk(os.path.join(base, cache)):
            for name in files:
                if name != "lock":
                    os.remove(os.path.join(dirpath, name))


def chrooted(rootfs, env, userspec=None, workdir=None):
    """The shell words that run what follows them in rootfs with exactly `env` (as a
    container's process gets its image's ENV and nothing else), as userspec, in workdir."""
    words = ["chroot"] + ([f"--userspec={userspec}"] if userspec else []) + [rootfs, "/usr/bin/env", "-i"]
    words += ["-C", workdir] if workdir else []
    words += [f"{k}={v}" for k, v in env.items()]
    return " ".join(shlex.quote(w) for w in words)


def in_chroot(rootfs, script, network=True):
    """argv running `script` (bash) with rootfs's /proc and /dev mounted, in namespaces of
    its own: mounts and processes always, and the network too unless `network`."""
    ns = ["unshare", "--mount", "--pid", "--fork"] + ([] if network else ["--net"])
    setup = f"""set -e
mount -t proc proc {shlex.quote(rootfs)}/proc
mount --rbind /dev {shlex.quote(rootfs)}/dev
{'' if network else 'ip link set lo up'}
{script}"""
    return ns + ["bash", "-c", setup]


def main():
    if os.geteuid() != 0:
        fail("needs root (debootstrap, chroot, namespaces)")
    for tool in ["debootstrap", "unshare", "ip", "curl"]:
        if not shutil.which(tool):
            fail(f"needs {tool} (Debian: debootstrap, util-linux, iproute2, curl)")
    stages = parse_dockerfile(os.path.join(ROOT, "Dockerfile"))
    if len(stages) < 2:
        fail("the Dockerfile should have a build stage and a runtime stage")
    build_name = stages[0][1]
    image, _, steps = stages[-1]
    if not any(i == "RUN" and "strip target/release/boligsocial" in a for i, a in stages[0][2]):
        fail("the build stage no longer strips the binary; update this test with it")

    run(["cargo", "build", "--release", "--locked", "--quiet"], cwd=ROOT)
    binary = os.path.join(TARGET, "release", "boligsocial")

    rootfs = os.path.join(WORK, "rootfs")
    shutil.rmtree(rootfs, ignore_errors=True)
    run(["cp", "-a", base_rootfs(image), rootfs])
    shutil.copy("/etc/resolv.conf", os.path.join(rootfs, "etc", "resolv.conf"))

    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
    user, workdir, port, health = "0", "/", None, None
    entrypoint, cmd = [], []
    for instruction, arguments in steps:
        if instruction == "RUN":
            run(in_chroot(rootfs, f"{chrooted(rootfs, env)} /bin/sh -c {shlex.quote(arguments)}"))
        elif instruction == "COPY":
            words = arguments.split()
            if words[0] != f"--from={build_name}" or len(words) != 3:
                fail(f"this test copies only the binary from the build stage, not COPY {arguments}")
            if not words[1].endswith("/target/release/boligsocial"):
                fail(f"COPY of {words[1]}: this test knows the release binary only")
            destination = os.path.join(rootfs, words[2].lstrip("/"))
            shutil.copy(binary, destination)
            run(["strip", destination])
        elif instruction == "ENV":
            env.update(env_pairs(arguments))
        elif instruction == "USER":
            user = arguments
        elif instruction == "WORKDIR":
            workdir = arguments
            os.makedirs(os.path.join(rootfs, workdir.lstrip("/")), exist_ok=True)
        elif instruction == "EXPOSE":
            port = int(arguments.split("/")[0])
        elif instruction == "HEALTHCHECK":
            health = healthcheck(arguments)
        elif instruction == "ENTRYPOINT":
            entrypoint = exec_form(arguments, "ENTRYPOINT")
        elif instruction == "CMD":
            cmd = exec_form(arguments, "CMD")
        else:
            fail(f"this test does not know {instruction}")
    command = entrypoint + cmd
    if port is None or health is None or not command:
        fail("the runtime stage needs EXPOSE, HEALTHCHECK and ENTRYPOINT/CMD")
    if user in ("0", "root"):
        fail("the runtime stage runs as root")

    # the USER as Docker resolves it: a name or uid from the image's /etc/passwd, its group
    passwd = [line.split(":") for line in open(os.path.join(rootfs, "etc", "passwd"))]
    entry = next((p for p in passwd if user in (p[0], p[2])), None)
    if entry is None:
        fail(f"USER {user} is not in the image's /etc/passwd")
    uid, gid, home = entry[2], entry[3], entry[5]
    env.setdefault("HOME", home)
    env.setdefault("HOSTNAME", "boligsocial-image-test")

    size_mb = int(subprocess.run(["du", "-smx", rootfs], capture_output=True, text=True, check=True).stdout.split()[0])
    print(f"image-test: runtime stage file system {size_mb} MB (the limit here: {MAX_IMAGE_MB} MB)")
    if size_mb > MAX_IMAGE_MB:
        fail(f"the image is {size_mb} MB, over {MAX_IMAGE_MB} MB")

    options, probe = health
    start_period = seconds(options.get("start-period", "0s"))
    interval = seconds(options.get("interval", "30s"))
    retries = int(options.get("retries", "3"))
    as_user = chrooted(rootfs, env, userspec=f"{uid}:{gid}", workdir=workdir)
    q = shlex.quote
    db = os.path.join(rootfs, workdir.lstrip("/"), "boligsocial.db")
    # in the namespaces: start the service, wait for the health check, look at what it serves
    script = f"""
{as_user} {" ".join(map(q, command))} > {q(WORK)}/server.log 2>&1 &
server=$!
deadline=$((SECONDS + {int(start_period + interval * retries)}))
until {as_user} {" ".join(map(q, probe))}; do
  kill -0 $server 2>/dev/null || {{ echo "the service exited:"; tail -20 {q(WORK)}/server.log; exit 1; }}
  [ $SECONDS -lt $deadline ] || {{ echo "the HEALTHCHECK did not pass in time"; tail -20 {q(WORK)}/server.log; exit 1; }}
  sleep 0.5
done
echo "image-test: HEALTHCHECK passed"
# the new process namespace's /proc is the one mounted in the chroot
uid=$(awk '/^Uid:/ {{print $2}}' {q(rootfs)}/proc/$server/status)
[ "$uid" = {q(uid)} ] || {{ echo "the service runs as uid $uid, not {uid}"; exit 1; }}
[ "$(stat -c %u {q(db)})" = {q(uid)} ] || {{ echo "the database in {workdir} is not the user's"; exit 1; }}
curl -sf http://127.0.0.1:{port}/v1/areas > {q(WORK)}/areas.json
kill -TERM $server
wait $server
"""
    try:
        run(in_chroot(rootfs, script, network=False))
    except subprocess.CalledProcessError as e:
        fail(f"the runtime stage did not run as it should (exit {e.returncode})")
    areas = json.load(open(os.path.join(WORK, "areas.json")))
    municipalities = {a["municipality_code"] for a in areas["items"]}
    if (len(areas["items"]), len(municipalities)) != (48, 36):
        fail(f"the image served {len(areas['items'])} areas in {len(municipalities)} municipalities, not 48 in 36")
    print(f"image-test: ok: as uid {uid} in {workdir}, health check passed, 48 areas on port {port}, stopped by SIGTERM with status 0")


if __name__ == "__main__":
    main()
