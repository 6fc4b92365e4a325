#!/usr/bin/env python3
"""webhook_client.py - a sender for the webhook receiver's integration test
(it_receive.sh), with Python's standard library only.

  checks URL TOKEN GH_SECRET
      every refusal over real HTTP: 401 (no token, wrong token, with a
      WWW-Authenticate challenge), 401 (bad GitHub signature), 404, 405,
      413, 415, 400; a good token and a good signature give 202.
  notes URL TOKEN FIRST COUNT OUT [--outage BROKER_SH]
      posts COUNT generic notes with ids FIRST..FIRST+COUNT-1, each retried
      on 503 (or a refused connection) until it is answered 202, as
      Alertmanager and PagerDuty retry; with --outage the broker is stopped
      after a third of them and restarted after five seconds of 503s.
      Writes the acknowledged ids to OUT, one a line, and prints how many
      503s were seen. Bounded: every note gives up after 120 s.
"""
import hashlib
import hmac
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request


def post(url, body, headers, method="POST"):
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def note(i):
    return json.dumps({"kind": "note", "id": "rx-note-%d" % i, "at": "2024-06-18T14:40:00Z",
                       "actor": "it", "labels": {"cluster": "c1"},
                       "summary": "note %d" % i}).encode()


def checks(url, token, gh_secret):
    auth = {"Content-Type": "application/json", "Authorization": "Bearer " + token}
    failures = []

    def expect(what, got, want):
        print("%-44s %s" % (what, got))
        if got != want:
            failures.append("%s: got %s, want %s" % (what, got, want))

    body = note(0)
    st, h, _ = post(url + "/webhook/generic", body, {"Content-Type": "application/json"})
    expect("no token", st, 401)
    if "Bearer" not in h.get("WWW-Authenticate", ""):
        failures.append("no WWW-Authenticate challenge: %s" % h)
    st, _, _ = post(url + "/webhook/generic", body,
                    {"Content-Type": "application/json", "Authorization": "Bearer wrong"})
    expect("wrong token", st, 401)
    st, _, _ = post(url + "/webhook/nosuch", body, auth)
    expect("unknown source", st, 404)
    st, _, _ = post(url + "/webhook/generic", None, auth, method="GET")
    expect("GET", st, 405)
    st, _, _ = post(url + "/webhook/generic", b"{" + b" " * 8000 + b"}", auth)
    expect("body over max_body_bytes", st, 413)
    st, _, _ = post(url + "/webhook/generic", body, dict(auth, **{"Content-Type": "text/plain"}))
    expect("text/plain", st, 415)
    st, _, _ = post(url + "/webhook/generic", b'{"kind": "nonsense"}', auth)
    expect("not a generic event", st, 400)
    st, _, _ = post(url + "/webhook/generic", body, auth)
    expect("good token", st, 202)

    gh = json.dumps({"action": "created", "deployment": {
        "id": 42, "sha": "f95f852b", "ref": "v1", "task": "deploy", "environment": "production",
        "payload": {}, "creator": {"login": "alice"}, "created_at": "2024-06-18T14:05:00Z"},
        "repository": {"id": 1, "name": "checkout", "full_name": "shop/checkout",
                       "html_url": "https://github.com/shop/checkout"},
        "sender": {"login": "alice"}}).encode()
    good = "sha256=" + hmac.new(gh_secret.encode(), gh, hashlib.sha256).hexdigest()
    bad = "sha256=" + hmac.new(b"other", gh, hashlib.sha256).hexdigest()
    ghh = {"Content-Type": "application/json", "X-GitHub-Event": "deployment",
           "X-GitHub-Delivery": "d-1"}
    st, _, _ = post(url + "/webhook/github", gh, dict(ghh, **{"X-Hub-Signature-256": bad}))
    expect("bad GitHub signature", st, 401)
    st, _, _ = post(url + "/webhook/github", gh, dict(ghh, **{"X-Hub-Signature-256": good}))
    expect("good GitHub signature", st, 202)
    if failures:
        print("FAIL: " + "; ".join(failures), file=sys.stderr)
        return 1
    return 0


def notes(url, token, first, count, out, broker_sh=None):
    auth = {"Content-Type": "application/json", "Authorization": "Bearer " + token}
    unavailable = 0
    stopped_at = None
    restarted = False
    acked = []
    for i in range(first, first + count):
        if broker_sh and stopped_at is None and i - first == count // 3:
            subprocess.run([broker_sh, "stop"], check=True, stdout=subprocess.DEVNULL)
            stopped_at = time.monotonic()
        give_up = time.monotonic() + 120
        while True:
            if stopped_at and not restarted and time.monotonic() - stopped_at > 5 and unavailable:
                subprocess.run([broker_sh, "restart"], check=True, stdout=subprocess.DEVNULL)
                restarted = True
            try:
                st, h, _ = post(url + "/webhook/generic", note(i), auth)
            except (urllib.error.URLError, ConnectionError) as e:
                st, h = None, {}
                print("note %d: %s" % (i, e), file=sys.stderr)
            if st == 202:
                acked.append("rx-note-%d" % i)
                break
            if st != 503 and st is not None:
                print("FAIL: note %d answered %s" % (i, st), file=sys.stderr)
                return 1
            unavailable += st == 503
            if st == 503 and not h.get("Retry-After"):
                print("FAIL: a 503 without Retry-After", file=sys.stderr)
                return 1
            if time.monotonic() > give_up:
                print("FAIL: note %d not accepted in 120 s" % i, file=sys.stderr)
                return 1
            time.sleep(0.2)
    with open(out, "w") as f:
        f.write("".join(a + "\n" for a in acked))
    print("notes: %d acknowledged, %d answers 503" % (len(acked), unavailable))
    if broker_sh and unavailable == 0:
        print("FAIL: the broker was stopped but no POST was answered 503", file=sys.stderr)
        return 1
    return 0


def main(argv):
    if len(argv) == 5 and argv[1] == "checks":
        return checks(argv[2], argv[3], argv[4])
    if len(argv) in (7, 9) and argv[1] == "notes":
        broker = argv[8] if len(argv) == 9 and argv[7] == "--outage" else None
        return notes(argv[2], argv[3], int(argv[4]), int(argv[5]), argv[6], broker)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
