#!/usr/bin/env python3
"""docker_context.py - the files `docker build` would send from the
repository root, under the root .dockerignore.

Usage: docker_context.py SOURCE_DIR [DEST]
Without DEST, lists the context's files; with DEST, copies them there, so
that a build from DEST shows the context holds everything the image's
build needs (tests/deploy/check_package.sh does). The files are those git
knows (tracked, or untracked and not ignored), as in a checkout.

Matching follows Docker's rules: patterns are matched against the path
and each of its parent directories, `**` matches any number of
directories, a leading `!` re-includes, and the last matching pattern
wins.
"""
import os
import re
import shutil
import subprocess
import sys


def load_patterns(src):
    with open(os.path.join(src, ".dockerignore")) as f:
        return [l.strip() for l in f if l.strip() and not l.lstrip().startswith("#")]


def _regex(pattern):
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out + r"\Z")


def ignored(path, patterns):
    """True when .dockerignore patterns leave path out of the context."""
    parts = path.split("/")
    result = False
    for pat in patterns:
        neg = pat.startswith("!")
        rx = _regex((pat[1:] if neg else pat).strip("/"))
        if any(rx.match("/".join(parts[:i])) for i in range(1, len(parts) + 1)):
            result = not neg
    return result


def context_files(src):
    patterns = load_patterns(src)
    files = subprocess.run(["git", "-C", src, "ls-files", "-co", "--exclude-standard"],
                           capture_output=True, text=True, check=True).stdout.split("\n")
    return [f for f in files if f and os.path.isfile(os.path.join(src, f)) and not ignored(f, patterns)]


def main():
    src = sys.argv[1]
    files = context_files(src)
    if len(sys.argv) < 3:
        print("\n".join(files))
        return
    dest = sys.argv[2]
    if os.path.exists(dest):
        shutil.rmtree(dest)
    for f in files:
        os.makedirs(os.path.dirname(os.path.join(dest, f)), exist_ok=True)
        shutil.copy2(os.path.join(src, f), os.path.join(dest, f))
    print("docker context: %d files copied to %s" % (len(files), dest))


if __name__ == "__main__":
    main()
