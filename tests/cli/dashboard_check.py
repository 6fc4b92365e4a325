#!/usr/bin/env python3
"""Checks deploy/grafana/aftermath-dashboard.json against what aftermath exports.

Every metric name in the dashboard's PromQL (panel targets and template
variable queries) must be a sample name of a real exposition: the output of
`test_run_metrics --print-sample`, a registry of run/registry.c filled with
every kind of series. Every panel query must parse as PromQL (`promtool
check rules` on the queries as recording rules, variables substituted;
promtool is required, deploy/install-deps.sh installs it). The dashboard
must also import unchanged and provision unchanged: no __inputs (Grafana's
provisioning does not fill them in) but a `datasource` variable of type
datasource (Prometheus) that every query uses, a `service` variable the
incident panels filter on, unique panel ids, a refId per target.

Usage: dashboard_check.py DASHBOARD_JSON TEST_RUN_METRICS
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

# PromQL words that look like names but are not metrics.
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
            "and", "or", "unless", "inf", "nan"}


def metric_names(expr):
    """The metric names an expression reads."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)       # string literals
    e = re.sub(r"\{[^}]*\}", "", e)                      # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)                     # ranges
    e = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", e)  # grouping labels
    e = re.sub(r"\$\w+", "", e)                          # dashboard variables
    names = set()
    # label_values(metric, label): the label is not a metric
    for m in re.finditer(r"label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*,", e):
        names.add(m.group(1))
    e = re.sub(r"label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*,\s*\w+\s*\)", "", e)
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", e):
        word = m.group(0)
        rest = e[m.end():].lstrip()
        if rest.startswith("("):                         # a function
            continue
        if word.lower() in KEYWORDS:
            continue
        names.add(word)
    return names


def check_promql(exprs):
    """Every expression parses as PromQL, by promtool (as recording rules)."""
    if not shutil.which("promtool"):
        sys.exit("FAIL: promtool not found: install the Debian package 'prometheus' "
                 "(deploy/install-deps.sh does)")
    subst = {"$window": "30d", "$__rate_interval": "5m", "$service": ".*", "$view": ".*",
             "$instance": ".*", "$role": ".*"}
    lines = ["groups:", "  - name: dashboard", "    rules:"]
    for i, e in enumerate(exprs):
        for k, v in subst.items():
            e = e.replace(k, v)
        assert "$" not in e, "unknown variable in " + e
        lines += ["      - record: dashboard:query%d" % i, "        expr: %s" % json.dumps(e)]
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "rules.yml")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        r = subprocess.run(["promtool", "check", "rules", path], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("FAIL: a dashboard query is not valid PromQL:\n" + r.stdout + r.stderr)


def main():
    dash_path, sample_bin = sys.argv[1], sys.argv[2]
    dash = json.load(open(dash_path))
    scrape = subprocess.run([sample_bin, "--print-sample"], check=True, capture_output=True,
                            text=True).stdout
    exported = {line.split("{")[0].split(" ")[0] for line in scrape.splitlines()
                if line and not line.startswith("#")}
    assert "aftermath_consumer_lag" in exported and len(exported) > 20, exported

    assert "__inputs" not in dash, "__inputs: provisioning would leave ${DS_...} unfilled"
    ds_vars = [v for v in dash["templating"]["list"]
               if v.get("type") == "datasource" and v.get("query") == "prometheus"]
    assert ds_vars, "no Prometheus datasource variable"
    ds_uid = "${%s}" % ds_vars[0]["name"]

    exprs = []
    ids = set()
    for p in dash["panels"]:
        assert p["id"] not in ids, "panel id %s twice" % p["id"]
        ids.add(p["id"])
        assert "gridPos" in p, p["title"]
        if p["type"] == "row":
            continue
        assert p["datasource"]["uid"] == ds_uid, p["title"]
        refs = set()
        for t in p["targets"]:
            assert t["datasource"]["uid"] == ds_uid, p["title"]
            assert t["refId"] not in refs, p["title"]
            refs.add(t["refId"])
            exprs.append((p["title"], t["expr"]))
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    assert "service" in variables, "no service variable"
    for v in variables.values():
        if v["type"] == "query":
            assert v["datasource"]["uid"] == ds_uid, v["name"]
            exprs.append(("variable " + v["name"], v["query"]["query"]))

    unknown = []
    used = set()
    for where, expr in exprs:
        names = metric_names(expr)
        assert names, "no metric in %r (%s)" % (expr, where)
        used |= names
        unknown += ["%s in %r (%s)" % (n, expr, where) for n in sorted(names - exported)]
    if unknown:
        sys.exit("FAIL: metrics the code does not export:\n  " + "\n  ".join(unknown))
    assert any('service=~"$service"' in e for _, e in exprs), "no panel filters on $service"
    check_promql([e for w, e in exprs if not w.startswith("variable ")])
    # the panels the dashboard exists for
    for need in ("aftermath_incident_time_to_detect_seconds_bucket",
                 "aftermath_incident_time_to_acknowledge_seconds_bucket",
                 "aftermath_incident_time_to_resolve_seconds_bucket", "aftermath_consumer_lag",
                 "aftermath_records_rejected_total", "aftermath_records_consumed_total",
                 "aftermath_batch_commit_duration_seconds_bucket", "aftermath_incidents_open"):
        assert need in used, "no panel uses " + need
    print("dashboard: %d panels, %d queries, %d metric names, all exported"
          % (len(ids), len(exprs), len(used)))


if __name__ == "__main__":
    main()
