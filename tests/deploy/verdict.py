"""verdict.py - what the deploy checks share: fail() prints a failure and
keeps it, check() is a soft assertion (the checks go on and report every
failure), finish() exits 1 when there was any, else prints its summary."""
import sys

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


def check(cond, msg):
    if not cond:
        fail(msg)
    return cond


def finish(summary):
    if failures:
        print("%d failure(s)" % len(failures))
        sys.exit(1)
    print(summary)
