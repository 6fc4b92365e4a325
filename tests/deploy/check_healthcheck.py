#!/usr/bin/env python3
"""check_healthcheck.py - the container image's HEALTHCHECK script
(deploy/docker/healthcheck.sh) against a local HTTP server.

Usage: check_healthcheck.py HEALTHCHECK_SH

The server answers /healthz with the status the test sets (200 or 503) and
any other path with 404; the script must exit 0 only for a 200 on /healthz,
reach a wildcard listen address on loopback, and fail with a message (not
hang) when nothing listens or the address is malformed.
"""
import http.server
import os
import socket
import subprocess
import sys
import threading

SCRIPT = sys.argv[1]
state = {"status": 200, "paths": []}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        state["paths"].append(self.path)
        code = state["status"] if self.path == "/healthz" else 404
        body = b"ok\n" if code == 200 else b"not ok\n"
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
port = server.server_address[1]
threading.Thread(target=server.serve_forever, daemon=True).start()

failures = 0


def run(expect, args=(), metrics=None):
    global failures
    env = {k: v for k, v in os.environ.items() if k != "AFTERMATH_METRICS"}
    if metrics is not None:
        env["AFTERMATH_METRICS"] = metrics
    p = subprocess.run(["bash", SCRIPT, *args], env=env, capture_output=True, text=True, timeout=60)
    ok = p.returncode == expect
    print("%s: %s args=%s AFTERMATH_METRICS=%s -> exit %d (%s)" % (
        "ok" if ok else "FAIL", state["status"], list(args), metrics, p.returncode,
        (p.stdout + p.stderr).strip()))
    if not ok:
        failures += 1
    return p


run(0, metrics="0.0.0.0:%d" % port)
check = state["paths"][-1:] == ["/healthz"]
if not check:
    print("FAIL: requested %s, not /healthz" % state["paths"])
    failures += 1
run(0, metrics=":%d" % port)
run(0, args=["127.0.0.1:%d" % port], metrics="0.0.0.0:1")
state["status"] = 503
run(1, metrics="0.0.0.0:%d" % port)
state["status"] = 500
run(1, metrics="127.0.0.1:%d" % port)

# Nothing listening: a port just freed.
s = socket.socket()
s.bind(("127.0.0.1", 0))
closed = s.getsockname()[1]
s.close()
run(1, metrics="127.0.0.1:%d" % closed)
run(1, metrics="")
run(1, metrics="localhost")
run(1, metrics="127.0.0.1:http")

server.shutdown()
if failures:
    print("%d failure(s)" % failures)
    sys.exit(1)
print("healthcheck script: all cases as expected")
