#!/usr/bin/env python3
"""Compares the incidents of two aftermath stores, field by field.

Usage: compare_incidents.py [--aftermath BIN] [--match id|content]
                            [--aliases] [--max N] LEFT RIGHT

LEFT and RIGHT are each an aftermath SQLite database, or a directory of
correlator databases (keyed-*.db, the store of `run --role correlate`),
or several such directories joined with ':' (one correlator store per
host): the union of their incidents. When the same keyed-<p>.db is in
several directories (a partition handed over), the copy that consumed the
most of the keyed topic is the one read.

Compared:
  - every column of `incidents` but updated_at;
  - the incident's links (`incident_events`: event and role);
  - `episodes`, every column but seq and the correlator's staleness
    bookkeeping (last_seen, stale_at, topic and the trunc_* columns: a
    re-notification that changes no incident moves them without
    republishing it, so a view's copy may be older; and the topic names
    are the deployment's, which a replay of a dump and a run over prefixed
    topics name differently), keyed by (rule, gkey, identity, starts_at);
  - with --aftermath, the output of `aftermath incidents --format json`
    (without `aliases`, which record the order incidents were first seen
    in, unless --aliases).

--match id (default) pairs incidents by id, as content-derived ids make
them equal everywhere. --match content pairs them by (rule, gkey,
started_at) and ignores id, num and the incident names in links and
episodes: for stores whose ids are numbered in arrival order.

Exit status: 0 equal (a summary line on stdout), 1 different (a readable
diff on stdout: the first differing incidents and their fields, at most
--max lines of detail), 2 usage or read error.
"""
import argparse
import glob
import json
import os
import sqlite3
import subprocess
import sys

SKIP_COLUMNS = {"updated_at"}
EPISODE_SKIP = {"seq", "last_seen", "stale_at", "topic", "trunc_seen", "trunc_stale_at",
                "trunc_topic"}
EPISODE_KEY = ("rule", "gkey", "identity", "starts_at")


class Side:
    """The incidents, links, episodes and JSON of one side."""

    def __init__(self, spec, aftermath):
        self.spec = spec
        self.dbs = self.databases(spec)
        self.columns = None
        self.incidents = {}  # id -> {column: value}
        self.links = {}  # id -> sorted [(role, event)]
        self.episodes = {}  # episode key -> {column: value}
        self.json = {} if aftermath else None
        for db in self.dbs:
            self.load(db)
            if aftermath:
                self.load_json(db, aftermath)

    @staticmethod
    def databases(spec):
        if os.path.isfile(spec):
            return [spec]
        best = {}  # keyed-<p>.db -> (consumed, path)
        for d in spec.split(":"):
            if not os.path.isdir(d):
                raise SystemExit("compare: %s: no such database or directory" % d)
            found = sorted(glob.glob(os.path.join(d, "keyed-*.db")))
            if not found:
                raise SystemExit("compare: %s: no keyed-*.db in this directory" % d)
            for path in found:
                consumed = Side.consumed(path)
                name = os.path.basename(path)
                if name not in best or consumed > best[name][0]:
                    best[name] = (consumed, path)
        return [best[n][1] for n in sorted(best)]

    @staticmethod
    def consumed(path):
        con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        try:
            return con.execute("SELECT coalesce(sum(next_offset), 0) FROM offsets").fetchone()[0]
        except sqlite3.Error:
            return 0
        finally:
            con.close()

    def load(self, db):
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
        con.row_factory = sqlite3.Row
        try:
            cols = [r["name"] for r in con.execute("PRAGMA table_info(incidents)")]
            if not cols:
                raise SystemExit("compare: %s: no incidents table" % db)
            cols = [c for c in cols if c not in SKIP_COLUMNS]
            if self.columns is None:
                self.columns = cols
            elif cols != self.columns:
                raise SystemExit("compare: %s: incidents columns %s differ from %s's" %
                                 (db, cols, self.dbs[0]))
            for r in con.execute("SELECT %s FROM incidents" % ", ".join('"%s"' % c for c in cols)):
                row = dict(zip(cols, tuple(r)))
                if row["id"] in self.incidents:
                    raise SystemExit("compare: incident %s is in two databases of %s" %
                                     (row["id"], self.spec))
                self.incidents[row["id"]] = row
            for r in con.execute("SELECT incident, role, event FROM incident_events"):
                self.links.setdefault(r["incident"], []).append((r["role"], r["event"]))
            ecols = [r["name"] for r in con.execute("PRAGMA table_info(episodes)")
                     if r["name"] not in EPISODE_SKIP]
            for r in con.execute("SELECT %s FROM episodes" % ", ".join(ecols)):
                row = dict(zip(ecols, tuple(r)))
                key = tuple(row[k] for k in EPISODE_KEY)
                if key in self.episodes:
                    raise SystemExit("compare: episode %s is in two databases of %s" %
                                     (key, self.spec))
                self.episodes[key] = row
        except sqlite3.Error as e:
            raise SystemExit("compare: %s: %s" % (db, e))
        finally:
            con.close()
        for v in self.links.values():
            v.sort()

    def load_json(self, db, aftermath):
        p = subprocess.run([aftermath, "incidents", "--db", db, "--format", "json"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            raise SystemExit("compare: aftermath incidents --db %s: %s" % (db, p.stderr.strip()))
        for inc in json.loads(p.stdout):
            self.json[inc["id"]] = inc


class Diff:
    def __init__(self, limit):
        self.limit = limit
        self.lines = 0
        self.count = 0

    def __call__(self, text):
        self.count += 1
        if self.lines < self.limit:
            print(text)
            self.lines += 1
        elif self.lines == self.limit:
            print("... (more differences left out; --max raises the limit)")
            self.lines += 1


def short(v, n=300):
    s = json.dumps(v) if not isinstance(v, str) else repr(v)
    return s if len(s) <= n else s[:n] + "..."


def name_of(inc):
    return "%s (rule %s, key %s, started %s)" % (inc["id"], inc["rule"], inc["gkey"],
                                                 inc["started_at"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("left")
    ap.add_argument("right")
    ap.add_argument("--aftermath", help="also compare `aftermath incidents --format json`")
    ap.add_argument("--match", choices=["id", "content"], default="id")
    ap.add_argument("--aliases", action="store_true", help="compare the JSON's aliases too")
    ap.add_argument("--max", type=int, default=20, help="lines of differences shown")
    a = ap.parse_args()
    try:
        L, R = Side(a.left, a.aftermath), Side(a.right, a.aftermath)
    except SystemExit as e:
        print(e, file=sys.stderr)
        return 2
    diff = Diff(a.max)

    if L.columns != R.columns:
        diff("incidents columns differ: %s has %s, %s has %s" %
             (a.left, L.columns, a.right, R.columns))
    cols = [c for c in L.columns if c in (R.columns or [])]

    # The name an incident is compared under, on both sides.
    if a.match == "id":
        lname = {i: i for i in L.incidents}
        rname = {i: i for i in R.incidents}
        ignore = set()
    else:
        def content(side):
            out = {}
            for i, inc in side.incidents.items():
                out[i] = "%s|%s|%s" % (inc["rule"], inc["gkey"], inc["started_at"])
            return out
        lname, rname = content(L), content(R)
        ignore = {"id", "num"}
    lby = {lname[i]: L.incidents[i] for i in L.incidents}
    rby = {rname[i]: R.incidents[i] for i in R.incidents}
    if len(lby) != len(L.incidents) or len(rby) != len(R.incidents):
        diff("two incidents share a (rule, gkey, started_at): --match content cannot pair them")

    def order(k):
        inc = lby.get(k) or rby.get(k)
        return (inc["started_at"], inc["rule"], inc["gkey"], inc["id"])

    first = None
    for k in sorted(set(lby) | set(rby), key=order):
        li, ri = lby.get(k), rby.get(k)
        if li is None:
            diff("incident only in %s: %s" % (a.right, name_of(ri)))
            first = first or k
            continue
        if ri is None:
            diff("incident only in %s: %s" % (a.left, name_of(li)))
            first = first or k
            continue
        for c in cols:
            if c in ignore or li[c] == ri[c]:
                continue
            diff("incident %s: field %s: %s has %s, %s has %s" %
                 (name_of(li), c, a.left, short(li[c]), a.right, short(ri[c])))
            first = first or k
        lk = L.links.get(li["id"], [])
        rk = R.links.get(ri["id"], [])
        if lk != rk:
            for role, ev in sorted(set(lk) - set(rk)):
                diff("incident %s: link %s %s only in %s" % (name_of(li), role, ev, a.left))
            for role, ev in sorted(set(rk) - set(lk)):
                diff("incident %s: link %s %s only in %s" % (name_of(li), role, ev, a.right))
            if sorted(set(lk)) == sorted(set(rk)):
                diff("incident %s: links repeated differently" % name_of(li))
            first = first or k
    # Links of incidents that do not exist (dangling) count too.
    for side, name in ((L, a.left), (R, a.right)):
        for i in sorted(set(side.links) - set(side.incidents)):
            diff("%s: links of a missing incident %s: %s" % (name, i, short(side.links[i])))

    # Episodes: same rows, the incident column by the names above.
    for key in sorted(set(L.episodes) | set(R.episodes), key=lambda t: tuple(map(str, t))):
        le, re_ = L.episodes.get(key), R.episodes.get(key)
        if le is None or re_ is None:
            diff("episode %s only in %s" % (short(list(key)), a.left if re_ is None else a.right))
            continue
        for c in sorted(set(le) | set(re_)):
            lv, rv = le.get(c), re_.get(c)
            if c == "incident":
                lv = lname.get(lv, "missing incident %s" % lv) if lv is not None else None
                rv = rname.get(rv, "missing incident %s" % rv) if rv is not None else None
            if lv != rv:
                diff("episode %s: field %s: %s has %s, %s has %s" %
                     (short(list(key)), c, a.left, short(lv), a.right, short(rv)))

    # aftermath incidents --format json, object by object.
    njson = 0
    if a.aftermath:
        def prepare(side, names):
            out = {}
            for i, obj in side.json.items():
                obj = dict(obj)
                if not a.aliases:
                    obj.pop("aliases", None)
                if a.match == "content":
                    obj.pop("id")
                    obj.pop("aliases", None)
                out[names.get(i, "missing incident %s" % i)] = obj
            return out
        lj, rj = prepare(L, lname), prepare(R, rname)
        njson = len(lj)
        for k in sorted(set(lj) | set(rj)):
            lo, ro = lj.get(k), rj.get(k)
            if lo is None or ro is None:
                diff("incidents --format json: %s only in %s" % (k, a.left if ro is None else a.right))
                continue
            for f in sorted(set(lo) | set(ro)):
                if lo.get(f) != ro.get(f):
                    diff("incidents --format json: %s: field %s: %s has %s, %s has %s" %
                         (k, f, a.left, short(lo.get(f)), a.right, short(ro.get(f))))

    if diff.count:
        print("DIFFERENT: %d differences between %s (%d incidents) and %s (%d incidents)%s" %
              (diff.count, a.left, len(L.incidents), a.right, len(R.incidents),
               "; first differing incident %s" % (lby.get(first) or rby.get(first))["id"]
               if first else ""))
        return 1
    print("equal: %d incidents (%d columns each), %d links, %d episodes%s, matched by %s" %
          (len(L.incidents), len(cols) - len(ignore), sum(map(len, L.links.values())),
           len(L.episodes), ", %d JSON objects" % njson if a.aftermath else "", a.match))
    return 0


if __name__ == "__main__":
    sys.exit(main())
