#!/usr/bin/env python3
"""Docs that run: executes the shell examples of README.md and docs/*.md (issue 15).

Convention (also in docs/README.md, "Examples that run"):

* A fence tagged ``sh`` or ``bash`` is a runnable example. Its lines run as they are.
* A fence tagged ``console`` is a session transcript: the lines that start with ``$ `` (and the
  lines continuing them after a trailing backslash) run; the lines after a command are what it
  prints: each must be a line of its output (stdout and stderr), in that order, though the
  command may print more lines in between (a line ``...`` stands for anything). Use it where the
  output is the point (a test vector); leave changing values (tokens, times) out of it.
* Every other fence is not run: ``text`` for synopses (``[--flag]``, placeholders), output,
  diagrams; ``json``, ``toml``, ``cpp``, ... for files. A fence without a tag is an error, so that
  no example hides from the test by accident.
* A runnable block that cannot run in CI (apt-get, installing packages, systemd, building the
  whole tree again, a long campaign) carries an HTML comment on the line right before its fence:
  ``<!-- docs-test: skip (installs packages) -->``. The reason is required and printed.

Each document runs on its own: its runnable blocks, in order, in one bash process (so a block
sees the variables, functions, background jobs and working directory of the earlier blocks of
the same document) with ``set -euo pipefail``, in a fresh scratch directory, with PATH starting
with the build tree's binary directories (``m2mdm``, ``m2mdm-device``) and ``SRC`` set to the
source tree. When ``unshare`` can make a private network namespace, every document gets its own
loopback, so the fixed ports the examples use (8080, 8443, 2948) never meet another test's.
At the end of a document (or after its timeout) every process it started is killed.

The first failing block fails its document (later blocks of it are not run: they may depend on
it). Exit status 0 when no block failed and every fence is well-formed, else 1.

Python 3.11 standard library only.
"""
from __future__ import annotations

import argparse
import dataclasses
import fcntl
import os
import re
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUN_TAGS = {"sh", "bash", "console"}
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
MARKER = re.compile(r"^[ \t]*<!--\s*docs-test:\s*(?P<body>.*?)\s*-->\s*$")
SKIP = re.compile(r"^skip\s*\((?P<reason>[^)]*\S[^)]*)\)$")


@dataclasses.dataclass
class Block:
    doc: str          # path relative to the source tree
    line: int         # 1-based line of the opening fence
    tag: str          # first word of the info string
    code: str         # the shell text to run ("" for blocks that are not run)
    skip: str | None  # reason, when marked skip
    text: str = ""    # the block as the document shows it


@dataclasses.dataclass
class Parsed:
    blocks: list[Block]
    errors: list[str]


def console_commands(lines: list[str]) -> list[tuple[list[str], list[str]]]:
    """A console transcript as (command lines, expected output lines) pairs: a command is a line
    starting with `$ ` plus the lines continuing it after a trailing backslash; its output is
    every line up to the next command."""
    out: list[tuple[list[str], list[str]]] = []
    continuing = False
    for line in lines:
        if continuing:
            out[-1][0].append(line)
        elif line.startswith("$ "):
            out.append(([line[2:]], []))
        elif out:
            if line.strip():
                out[-1][1].append(line.rstrip())
            continue
        else:
            continue
        continuing = line.rstrip().endswith("\\")
    return out


def console_code(lines: list[str]) -> str:
    """Bash for a console transcript: each command runs (stdout and stderr shown), fails the block
    when it fails, and its shown output lines must appear in what it printed, in that order
    (lines "..." stand for anything)."""
    code: list[str] = []
    for n, (cmd, expected) in enumerate(console_commands(lines)):
        code.append("if ! {")
        code += cmd
        code.append(f'}} >"$__docs_out" 2>&1; then cat "$__docs_out"; echo "docs-test: the command failed" >&2; exit 1; fi')
        code.append('cat "$__docs_out"')
        if expected:
            code.append("__docs_expect \"$__docs_out\" <<'__DOCS_EXPECT__'")
            code += expected
            code.append("__DOCS_EXPECT__")
    return "\n".join(code)


def parse(doc: str, text: str) -> Parsed:
    """Every fenced block of a Markdown document, with its docs-test marker."""
    lines = text.split("\n")
    blocks: list[Block] = []
    errors: list[str] = []
    pending: tuple[int, str] | None = None  # (line, marker body) waiting for its fence
    i = 0
    while i < len(lines):
        m = MARKER.match(lines[i])
        if m:
            if pending:
                errors.append(f"{doc}:{pending[0]}: docs-test marker not followed by a fence")
            pending = (i + 1, m.group("body"))
            i += 1
            continue
        f = FENCE.match(lines[i])
        if not f:
            if pending:
                errors.append(f"{doc}:{pending[0]}: docs-test marker must be on the line right before a fence")
                pending = None
            i += 1
            continue
        indent, fence, info = f.group("indent"), f.group("fence"), f.group("info").strip()
        start = i
        body: list[str] = []
        i += 1
        closed = False
        while i < len(lines):
            close = re.match(r"^[ \t]*" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}\s*$", lines[i])
            if close:
                closed = True
                i += 1
                break
            line = lines[i]
            body.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            i += 1
        if not closed:
            errors.append(f"{doc}:{start + 1}: fence never closed")
        tag = info.split()[0].lower() if info else ""
        skip = None
        if pending:
            sk = SKIP.match(pending[1])
            if not sk:
                errors.append(f"{doc}:{pending[0]}: unknown docs-test marker '{pending[1]}' "
                              "(the one form is: <!-- docs-test: skip (REASON) -->)")
            elif tag not in RUN_TAGS:
                errors.append(f"{doc}:{pending[0]}: docs-test skip on a '{tag or 'untagged'}' block, which is never run")
            else:
                skip = sk.group("reason").strip()
            pending = None
        if not tag:
            errors.append(f"{doc}:{start + 1}: fence without a language: tag it sh (runs in the docs test), "
                          "text (synopsis or output), json, toml, ...")
        code = ""
        if tag == "console":
            code = console_code(body)
        elif tag in RUN_TAGS:
            code = "\n".join(body)
        blocks.append(Block(doc, start + 1, tag, code, skip, "\n".join(body)))
    if pending:
        errors.append(f"{doc}:{pending[0]}: docs-test marker not followed by a fence")
    return Parsed(blocks, errors)


def documents(source: Path, names: list[str]) -> list[Path]:
    if names:
        return [Path(n) if Path(n).is_absolute() else source / n for n in names]
    return [source / "README.md"] + sorted((source / "docs").glob("*.md"))


def loopback_up() -> None:
    """Brings `lo` up in a fresh network namespace (SIOCGIFFLAGS / SIOCSIFFLAGS, IFF_UP)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sh", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(s, 0x8913, req))[1]
        fcntl.ioctl(s, 0x8914, struct.pack("16sh", b"lo", flags | 1))


# __docs_expect FILE <<EXPECTED: every expected line (trailing blanks ignored; "..." skipped) is a
# line of FILE, in order.
EXPECT_FUNCTION = r"""__docs_expect() {
  local want got i=0 found
  local -a lines
  mapfile -t lines <"$1"
  while IFS= read -r want; do
    want=${want%"${want##*[![:space:]]}"}
    [ "$want" = "..." ] && continue
    found=
    while [ "$i" -lt "${#lines[@]}" ]; do
      got=${lines[$i]%"${lines[$i]##*[![:space:]]}"}
      i=$((i + 1))
      if [ "$got" = "$want" ]; then found=1; break; fi
    done
    if [ -z "$found" ]; then echo "docs-test: expected output line missing (or out of order): $want" >&2; return 1; fi
  done
}"""


def driver_script(blocks: list[Block], scratch: Path, status: Path) -> str:
    """One bash script running the blocks in order in one shell; progress lines go to @p status."""
    parts = ["set -euo pipefail", f"exec 9>{shlex.quote(str(status))}", f"cd {shlex.quote(str(scratch))}",
             f"__docs_out={shlex.quote(str(scratch.parent / ('.' + scratch.name + '.out')))}", EXPECT_FUNCTION]
    for n, b in enumerate(blocks):
        path = scratch.parent / f".{scratch.name}.block{n}.sh"
        path.write_text(b.code + "\n")
        parts.append(f"echo 'begin {n}' >&9")
        parts.append(f"echo '+++ {b.doc}:{b.line}'")
        parts.append(f". {shlex.quote(str(path))}")
        parts.append(f"echo 'ok {n}' >&9")
    return "\n".join(parts) + "\n"


def group_alive(pgid: int) -> bool:
    """Whether a process of group @p pgid still runs (zombies, which an init that does not reap
    may keep around, do not count)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def kill_group(pgid: int) -> None:
    """SIGTERM to every process of the group, SIGKILL to what is left after 5 s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        for _ in range(50):
            if not group_alive(pgid):
                return
            time.sleep(0.1)


def tail(path: Path, n: int) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


# The process group of the document running now (killed too when the runner itself is stopped).
current_group: int | None = None


def stop_on_signal(signum, _frame) -> None:
    if current_group is not None:
        kill_group(current_group)
    print(f"stopped by signal {signum}")
    sys.exit(1)


def run_document(doc: str, blocks: list[Block], work: Path, env: dict[str, str], timeout: float) -> tuple[int, int, int, float]:
    """Runs the runnable blocks of one document; returns (ran ok, skipped, failed, seconds)."""
    global current_group
    to_run = [b for b in blocks if b.code and b.skip is None]
    skipped = [b for b in blocks if b.tag in RUN_TAGS and b.skip is not None]
    for b in skipped:
        print(f"SKIP {b.doc}:{b.line}: {b.skip}")
    if not to_run:
        return 0, len(skipped), 0, 0.0
    if timeout <= 0:
        print(f"FAIL {doc}: not run, the time budget is spent")
        return 0, len(skipped), 1, 0.0
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", doc)
    scratch = work / name
    scratch.mkdir(parents=True)
    status = work / f".{name}.status"
    log = work / f".{name}.log"
    script = work / f".{name}.driver.sh"
    script.write_text(driver_script(to_run, scratch, status))
    start = time.monotonic()
    timed_out = False
    with open(log, "wb") as out:
        proc = subprocess.Popen(["bash", str(script)], stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                cwd=scratch, env=env, start_new_session=True)
        current_group = proc.pid
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            kill_group(proc.pid)
            rc = proc.wait()
    kill_group(proc.pid)  # background jobs the document left running
    current_group = None
    seconds = time.monotonic() - start
    done = status.read_text().split("\n") if status.exists() else []
    ok = sum(1 for line in done if line.startswith("ok "))
    if rc == 0 and ok == len(to_run):
        print(f"ok   {doc}: {ok} block(s) ran in {seconds:.1f} s")
        return ok, len(skipped), 0, seconds
    failed = to_run[ok] if ok < len(to_run) else to_run[-1]
    why = f"timed out after {timeout:.0f} s" if timed_out else f"exit status {rc}"
    print(f"FAIL {failed.doc}:{failed.line}: {why} (blocks after it not run)")
    print("---- the block")
    print("\n".join("     " + line for line in failed.text.split("\n")))
    print(f"---- output of {doc} (last 40 lines)")
    print(tail(log, 40))
    for f in sorted(scratch.rglob("*.log")) + sorted(scratch.rglob("*.err")):
        if f.is_file() and f.stat().st_size:
            print(f"---- {f.relative_to(scratch)} (last 15 lines)")
            print(tail(f, 15))
    return ok, len(skipped), 1, seconds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source-dir", type=Path, required=True, help="the m2mdm checkout (README.md, docs/)")
    ap.add_argument("--bin-dir", type=Path, action="append", default=[],
                    help="directory put first on PATH (repeatable): the build tree's server/ and client/")
    ap.add_argument("--work-dir", type=Path, help="scratch root (default: a temp directory, removed when all pass)")
    ap.add_argument("--timeout", type=float, default=75, help="seconds per document (default 75)")
    ap.add_argument("--budget", type=float, default=240,
                    help="seconds for all documents (default 240, under the ctest timeout): later ones fail unrun")
    ap.add_argument("--list", action="store_true", help="only list the blocks and what would happen to them")
    ap.add_argument("--no-netns", action="store_true", help="do not try a private network namespace")
    ap.add_argument("--in-netns", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("docs", nargs="*", help="documents to run (default README.md and docs/*.md)")
    args = ap.parse_args()
    source = args.source_dir.resolve()

    if not args.list and not args.no_netns and not args.in_netns:
        unshare = shutil.which("unshare")
        cmd = [unshare, "-n"] if os.geteuid() == 0 else [unshare, "-r", "-n"]
        if unshare and subprocess.run(cmd + ["true"], capture_output=True).returncode == 0:
            os.execv(cmd[0], cmd + [sys.executable, os.path.abspath(__file__), "--in-netns"] + sys.argv[1:])
        print("note: no private network namespace (unshare refused); the examples use the host's loopback")
    if args.in_netns:
        loopback_up()
        print("note: each run in a private network namespace (own loopback)")

    parsed = []
    errors: list[str] = []
    for path in documents(source, args.docs):
        rel = str(path.relative_to(source)) if path.is_relative_to(source) else str(path)
        p = parse(rel, path.read_text())
        parsed.append((rel, p.blocks))
        errors += p.errors
    for e in errors:
        print(f"ERROR {e}")

    if args.list:
        for doc, blocks in parsed:
            for b in blocks:
                what = "skip: " + b.skip if b.skip else ("run" if b.code else "not run")
                print(f"{doc}:{b.line}: {b.tag or '(untagged)'}: {what}")
        return 1 if errors else 0

    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(d.resolve()) for d in args.bin_dir] + [env.get("PATH", "/usr/bin:/bin")])
    env["SRC"] = str(source)
    for var in ("CURL_CA_BUNDLE", "SSL_CERT_FILE", "URL", "SHO", "ADMIN"):
        env.pop(var, None)
    for tool in ("m2mdm", "m2mdm-device"):
        where = shutil.which(tool, path=env["PATH"])
        print(f"{tool}: {where or 'NOT FOUND'}")

    signal.signal(signal.SIGTERM, stop_on_signal)
    signal.signal(signal.SIGINT, stop_on_signal)
    work = args.work_dir.resolve() if args.work_dir else Path(tempfile.mkdtemp(prefix="m2mdm-docs-"))
    work.mkdir(parents=True, exist_ok=True)
    totals = [0, 0, 0]
    summary = []
    t0 = time.monotonic()
    for doc, blocks in parsed:
        env["TMPDIR"] = str(work)
        left = args.budget - (time.monotonic() - t0)
        ok, skipped, failed, seconds = run_document(doc, blocks, work, env, min(args.timeout, left))
        not_run = sum(1 for b in blocks if b.tag not in RUN_TAGS)
        summary.append(f"{doc:32} ran {ok:2}  skipped {skipped:2}  failed {failed}  "
                       f"(other fences {not_run:2})  {seconds:5.1f} s")
        totals = [totals[0] + ok, totals[1] + skipped, totals[2] + failed]
    print("\nper document:")
    print("\n".join("  " + s for s in summary))
    print(f"total: {totals[0]} block(s) ran, {totals[1]} skipped, {totals[2]} failed document(s), "
          f"{len(errors)} fence error(s) in {time.monotonic() - t0:.1f} s")
    bad = totals[2] > 0 or errors
    if bad:
        print(f"scratch directories kept in {work}")
    elif not args.work_dir:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
