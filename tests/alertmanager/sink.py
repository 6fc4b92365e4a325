#!/usr/bin/env python3
"""A webhook sink for the Alertmanager integration test: an HTTP server on
127.0.0.1 that records every POST body, with the time it was received, as
one kcat -J style NDJSON line ({"topic", "partition": 0, "offset": n,
"ts": ms, "key": null, "payload": body}) in OUT, so that
`aftermath replay OUT` reads it as it reads records consumed from Kafka.
The topic is the request path without its leading slash (one receiver per
path); offsets count per topic. Every line is flushed as it is written.

Usage: sink.py PORT OUT        (runs until SIGTERM)
"""
import json
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 4 << 20


def main():
    port, out_path = int(sys.argv[1]), sys.argv[2]
    out = open(out_path, "x", encoding="utf-8")
    lock = threading.Lock()
    offsets = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            ts = int(time.time() * 1000)
            length = int(self.headers.get("Content-Length") or 0)
            if length < 0 or length > MAX_BODY:
                self.send_error(413)
                return
            body = self.rfile.read(length).decode("utf-8")
            topic = self.path.lstrip("/") or "webhook"
            with lock:
                off = offsets.get(topic, 0)
                offsets[topic] = off + 1
                out.write(json.dumps({"topic": topic, "partition": 0, "offset": off, "ts": ts,
                                      "key": None, "payload": body}) + "\n")
                out.flush()
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, fmt, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print("sink: listening on 127.0.0.1:%d" % port, flush=True)
    server.serve_forever()
    out.close()


if __name__ == "__main__":
    main()
