#!/usr/bin/env python3
"""check_staged.py - the staged topology's deploy files agree with each other
and with the code (docs/scaling.md).

Usage: check_staged.py AFTERMATH SOURCE_DIR

Checks, without Docker or Kubernetes:
- deploy/kubernetes/staged/: each workload's configuration (the ConfigMap
  with the workload's environment and the Secret) loads in `aftermath run
  --print-config` with the role the workload sets, the role's default
  consumer group, and the store on the workload's volume; decode is a
  Deployment on an emptyDir, correlate and view StatefulSets with a claim
  per pod; correlate replicas <= the keyed partitions the Job creates; the
  Job's topic names are the ConfigMap's; selectors, Services, PDBs, probes,
  ports and the kustomization resolve; no staged pod matches a selector of
  the single instance (deploy/kubernetes/*.yaml); the ConfigMap's rules are
  rules/default.yaml;
- the Job's script, run against a stand-in kafka-topics.sh: it creates the
  keyed topic with retention.ms=-1 and the incidents topic compacted with
  max.message.bytes=16777216, and fails when the keyed topic exists with
  another partition count;
- deploy/compose.staged.yaml and deploy/prometheus/prometheus-staged.yml:
  the same for the compose services (roles, groups, topics, one volume per
  correlate instance, correlate instances <= keyed partitions, a fixed
  hostname for the view), and Prometheus scrapes every aftermath service
  with its role as a label.
Prints each failure and exits 1 if there was any.
"""
import os
import re
import shlex
import subprocess
import sys
import tempfile

import yaml

from verdict import check, fail, finish


AM, SRC = sys.argv[1], sys.argv[2]
DEPLOY = os.path.join(SRC, "deploy")
STAGED = os.path.join(DEPLOY, "kubernetes", "staged")
KEYED_CONFIGS = ("retention.ms=-1",)
INCIDENTS_CONFIGS = ("cleanup.policy=compact", "max.message.bytes=16777216")


def load_all(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def print_config(config, env):
    """aftermath run --print-config with exactly the AFTERMATH_* variables env."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("AFTERMATH_")}
    e.update(env)
    args = [AM, "run", "--print-config", "--config", config]
    p = subprocess.run(args, env=e, capture_output=True, text=True)
    if p.returncode != 0:
        fail("%s (env %s): exit %d: %s" % (" ".join(args[1:]), sorted(env), p.returncode,
                                            p.stderr.strip()))
        return None
    return yaml.safe_load(p.stdout)


def port_of(addr):
    m = re.fullmatch(r"(.*):(\d+)", str(addr or ""))
    return int(m.group(2)) if m else None


def role_group_ok(role, group):
    if role == "view":
        return bool(re.fullmatch(r"aftermath-view-.+", group or ""))
    return group == {"decode": "aftermath-decode", "correlate": "aftermath-correlate"}.get(role)


def check_role_config(where, cfg, role, store_dir, want_keyed, want_incidents):
    """A loaded configuration is what the role needs."""
    if not cfg:
        return
    check(cfg.get("role") == role, "%s: --print-config role is %s, not %s (the code has no "
          "role yet?)" % (where, cfg.get("role"), role))
    check(role_group_ok(role, cfg.get("group")), "%s: group %s is not role %s's default"
          % (where, cfg.get("group"), role))
    check(str(cfg.get("store", "")).startswith(store_dir + "/"),
          "%s: store %s is not on the volume %s" % (where, cfg.get("store"), store_dir))
    check(cfg.get("keyed_topic") == want_keyed, "%s: keyed_topic %s, the topics are created as %s"
          % (where, cfg.get("keyed_topic"), want_keyed))
    check(cfg.get("incidents_topic") == want_incidents,
          "%s: incidents_topic %s, the topics are created as %s"
          % (where, cfg.get("incidents_topic"), want_incidents))
    sources = [t.get("name") for t in cfg.get("topics") or []]
    check(want_keyed not in sources and want_keyed != want_incidents and want_incidents not in sources,
          "%s: the keyed topic %s, the incidents topic %s and the sources %s must differ"
          % (where, want_keyed, want_incidents, sources))
    if role == "view":
        check(str(cfg.get("drafts", "")).startswith(store_dir + "/"),
              "%s: drafts %s are not on the volume %s" % (where, cfg.get("drafts"), store_dir))
    if role == "decode":
        check(cfg.get("topics"), "%s: decode has no source topics" % where)


def topic_commands(script):
    """(topic, partitions, [configs]) of each 'kafka-topics --create' in a shell
    script, variables substituted by the caller."""
    out = []
    joined = re.sub(r"\\\n\s*", " ", script)
    for line in joined.splitlines():
        if "--create" not in line:
            continue
        w = shlex.split(line)
        get = lambda flag: w[w.index(flag) + 1] if flag in w else None  # noqa: E731
        configs = [w[i + 1] for i, x in enumerate(w) if x == "--config"]
        out.append((get("--topic"), get("--partitions"), configs))
    return out


def check_topics(where, creates, keyed, incidents):
    """The two topics are created with the settings of docs/scaling.md; returns P."""
    by = {t: (p, c) for t, p, c in creates}
    check(set(by) == {keyed, incidents}, "%s: creates %s, not %s and %s"
          % (where, sorted(str(t) for t in by), keyed, incidents))
    p_keyed, c_keyed = by.get(keyed, (None, []))
    _, c_inc = by.get(incidents, (None, []))
    for c in KEYED_CONFIGS:
        check(c in c_keyed, "%s: the keyed topic is not created with %s" % (where, c))
    for c in INCIDENTS_CONFIGS:
        check(c in c_inc, "%s: the incidents topic is not created with %s" % (where, c))
    return int(p_keyed) if p_keyed and str(p_keyed).isdigit() else None


def env_of(container, secret, substitute):
    """A container's env as the pod sees it (Secret values, $(VAR) expanded)."""
    env = {}
    for e in container.get("env", []):
        if "value" in e:
            env[e["name"]] = re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1), ""), str(e["value"]))
            continue
        vf = e.get("valueFrom", {})
        if "secretKeyRef" in vf:
            ref = vf["secretKeyRef"]
            check(ref.get("name") == secret["metadata"]["name"] and
                  ref.get("key") in secret.get("stringData", {}),
                  "%s: %s refers to %s/%s, not a key of the Secret" % (container.get("name"), e["name"],
                                                                      ref.get("name"), ref.get("key")))
            env[e["name"]] = secret.get("stringData", {}).get(ref.get("key"), "")
        elif "fieldRef" in vf:
            env[e["name"]] = substitute.get(vf["fieldRef"].get("fieldPath"), "")
    return env


# --- Kubernetes ---------------------------------------------------------------
docs = {}
for name in sorted(os.listdir(STAGED)):
    if name.endswith(".yaml"):
        docs[name] = load_all(os.path.join(STAGED, name))


def kind(name, k):
    for d in docs.get(name, []):
        if d.get("kind") == k:
            return d
    fail("staged/%s: no %s" % (name, k))
    return {}


kust = docs.get("kustomization.yaml", [{}])[0]
check(sorted(kust.get("resources", [])) == sorted(n for n in docs if n != "kustomization.yaml"),
      "staged kustomization resources %s are not the files %s" % (kust.get("resources"), sorted(docs)))
secret = load_all(os.path.join(DEPLOY, "kubernetes", "secret.yaml"))[0]
cm = kind("configmap.yaml", "ConfigMap")
with open(os.path.join(SRC, "rules", "default.yaml")) as f:
    check(cm.get("data", {}).get("rules.yaml") == f.read(),
          "staged ConfigMap rules.yaml differs from rules/default.yaml (update the copy)")
cm_cfg = yaml.safe_load(cm.get("data", {}).get("aftermath.yaml", "")) or {}
keyed, incidents = cm_cfg.get("keyed_topic"), cm_cfg.get("incidents_topic")
check(keyed and incidents, "staged ConfigMap: keyed_topic or incidents_topic missing")

job = kind("topics-job.yaml", "Job")
jc = (job.get("spec", {}).get("template", {}).get("spec", {}).get("containers") or [{}])[0]
check(str(jc.get("image", "")).startswith("apache/kafka:"), "topics Job: not the apache/kafka image")
jenv = {e["name"]: str(e.get("value", "")) for e in jc.get("env", [])}
script = "\n".join(jc.get("args", []))
check(jenv.get("KEYED_TOPIC") == keyed and jenv.get("INCIDENTS_TOPIC") == incidents,
      "topics Job: topics %s/%s are not the ConfigMap's %s/%s"
      % (jenv.get("KEYED_TOPIC"), jenv.get("INCIDENTS_TOPIC"), keyed, incidents))
expanded = re.sub(r"\"?\$(\w+)\"?", lambda m: jenv.get(m.group(1), "$" + m.group(1)), script)
nparts = check_topics("topics Job", topic_commands(expanded), keyed, incidents)
check(nparts and nparts >= 1, "topics Job: no keyed partition count")

# The Job's script against a stand-in kafka-topics.sh: what it asks for, and
# that a keyed topic with another partition count fails it.
with tempfile.TemporaryDirectory() as tmp:
    stub = os.path.join(tmp, "kafka-topics.sh")
    with open(stub, "w") as f:
        f.write('#!/bin/bash\necho "$*" >>"%s/calls"\n'
                'case " $* " in *" --describe "*) printf "Topic: x\\tTopicId: y\\t'
                'PartitionCount: %%s\\tReplicationFactor: 3\\tConfigs: \\n" "$STUB_PARTITIONS" ;; esac\n'
                % tmp)
    os.chmod(stub, 0o755)
    for have, want_rc in ((jenv.get("KEYED_PARTITIONS"), 0), ("24", 1)):
        if os.path.exists(os.path.join(tmp, "calls")):
            os.unlink(os.path.join(tmp, "calls"))
        env = dict(jenv, KAFKA_BIN=tmp, TMPDIR=tmp, SASL_USERNAME="u", SASL_PASSWORD="p",
                   STUB_PARTITIONS=have, PATH=os.environ["PATH"])
        p = subprocess.run(jc.get("command", []) + jc.get("args", []), env=env, capture_output=True,
                           text=True)
        check((p.returncode == 0) == (want_rc == 0),
              "topics Job script with an existing keyed topic of %s partitions: exit %d (%s)"
              % (have, p.returncode, p.stderr.strip()))
        if want_rc == 0 and os.path.exists(os.path.join(tmp, "calls")):
            with open(os.path.join(tmp, "calls")) as f:
                calls = f.read()
            check_topics("topics Job script (run)", topic_commands(
                "\n".join("kafka-topics.sh " + c for c in calls.splitlines())), keyed, incidents)
            check("--command-config %s/client.properties" % tmp in calls,
                  "topics Job script: kafka-topics.sh is not given the client properties")
            with open(os.path.join(tmp, "client.properties")) as f:
                props = f.read()
            check('username="u" password="p"' in props and
                  "security.protocol=%s" % jenv.get("SECURITY_PROTOCOL") in props,
                  "topics Job script: the client properties lack the credentials")
        elif want_rc == 1:
            check("must never change" in p.stderr, "topics Job script: no reason given for %s "
                  "partitions: %s" % (have, p.stderr.strip()))

# The single instance's selectors must not take staged pods.
single_selectors = []
for name in ("statefulset.yaml", "service.yaml", "pdb.yaml"):
    for d in load_all(os.path.join(DEPLOY, "kubernetes", name)):
        s = d.get("spec", {}).get("selector", {})
        single_selectors.append(s.get("matchLabels", s) if isinstance(s, dict) else {})

ports = {}
with tempfile.TemporaryDirectory() as tmp:
    for name, wkind, role in (("decode.yaml", "Deployment", "decode"),
                              ("correlate.yaml", "StatefulSet", "correlate"),
                              ("view.yaml", "StatefulSet", "view")):
        w = kind(name, wkind)
        svc, pdb = kind(name, "Service"), kind(name, "PodDisruptionBudget")
        spec = w.get("spec", {})
        pod = spec.get("template", {})
        labels = pod.get("metadata", {}).get("labels", {})
        for what, sel in (("selector", spec.get("selector", {}).get("matchLabels")),
                          ("Service", svc.get("spec", {}).get("selector")),
                          ("PDB", pdb.get("spec", {}).get("selector", {}).get("matchLabels"))):
            check(sel and all(labels.get(k) == v for k, v in sel.items()),
                  "staged/%s: %s %s does not match the pod labels %s" % (name, what, sel, labels))
        for sel in single_selectors:
            check(not all(labels.get(k) == v for k, v in sel.items()),
                  "staged/%s: the single instance's selector %s matches the pod labels" % (name, sel))
        check(labels.get("app.kubernetes.io/component") == role,
              "staged/%s: pod label app.kubernetes.io/component is not %s" % (name, role))
        c = (pod.get("spec", {}).get("containers") or [{}])[0]
        env = env_of(c, secret, {"metadata.name": spec.get("serviceName", "pod") + "-0"})
        check(env.get("AFTERMATH_ROLE") == role, "staged/%s: AFTERMATH_ROLE is %s" % (name, env.get("AFTERMATH_ROLE")))
        cports = {p.get("name"): p.get("containerPort") for p in c.get("ports", [])}
        ports["staged/%s containerPort" % name] = cports.get("metrics")
        ports["staged/%s AFTERMATH_METRICS" % name] = port_of(env.get("AFTERMATH_METRICS"))
        for sp in svc.get("spec", {}).get("ports", []):
            ports["staged/%s Service" % name] = sp.get("port")
            check(sp.get("targetPort") in cports, "staged/%s: Service targetPort %s is not a container "
                  "port" % (name, sp.get("targetPort")))
        ports["staged/%s prometheus.io/port" % name] = int(
            svc.get("metadata", {}).get("annotations", {}).get("prometheus.io/port", 0))
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            g = c.get(probe, {}).get("httpGet", {})
            check(g.get("path") == "/healthz" and g.get("port") in cports,
                  "staged/%s: %s is not an httpGet of /healthz on a named port" % (name, probe))
        req = c.get("resources", {}).get("requests", {})
        check(req.get("cpu") and req.get("memory"), "staged/%s: no cpu and memory requests" % name)
        check(pod.get("spec", {}).get("securityContext", {}).get("runAsUser") == 10001,
              "staged/%s: runAsUser is not the image's 10001" % name)
        mounts = {m["name"]: m["mountPath"] for m in c.get("volumeMounts", [])}
        podvols = {v["name"]: v for v in pod.get("spec", {}).get("volumes", [])}
        claims = [v.get("metadata", {}).get("name") for v in spec.get("volumeClaimTemplates", [])]
        check(podvols.get("config", {}).get("configMap", {}).get("name") == cm["metadata"]["name"],
              "staged/%s: the config volume is not the ConfigMap" % name)
        if role == "decode":
            check("emptyDir" in podvols.get("data", {}) and not claims,
                  "staged/decode.yaml: /data is not an emptyDir (decode is stateless)")
        else:
            check(claims == ["data"] and "data" not in podvols,
                  "staged/%s: no volume claim per pod named data" % name)
            check(spec.get("serviceName") == svc.get("metadata", {}).get("name"),
                  "staged/%s: serviceName is not the Service" % name)
        if role == "correlate":
            check(nparts and 1 <= spec.get("replicas", 0) <= nparts,
                  "staged/correlate.yaml: replicas %s is not within 1..%s (the keyed partitions)"
                  % (spec.get("replicas"), nparts))
            check(env.get("AFTERMATH_KAFKA__GROUP_INSTANCE_ID") == spec.get("serviceName", "") + "-0",
                  "staged/correlate.yaml: group.instance.id is not the pod name")
        if role == "view":
            check(spec.get("replicas") == 1, "staged/view.yaml: replicas is not 1 by default")
        args = c.get("args", [])
        cfgdir = mounts.get("config", "?")
        check("--config" in args and args[args.index("--config") + 1] == cfgdir + "/aftermath.yaml",
              "staged/%s: --config is not the ConfigMap's aftermath.yaml" % name)
        for k, v in cm.get("data", {}).items():
            with open(os.path.join(tmp, k), "w") as f:
                f.write(v.replace(cfgdir + "/", tmp + "/"))
        cfg = print_config(os.path.join(tmp, "aftermath.yaml"),
                           {k: v for k, v in env.items() if k.startswith("AFTERMATH_")})
        check_role_config("staged/%s" % name, cfg, role, mounts.get("data", "?"), keyed, incidents)
        if cfg:
            check(cfg["kafka"].get("sasl.password") == "***", "staged/%s: password not masked" % name)
            for r in cfg.get("rules", []):
                p = subprocess.run([AM, "rules", "check", r], capture_output=True, text=True)
                check(p.returncode == 0, "staged ConfigMap rules: %s" % p.stderr.strip())

# --- compose ------------------------------------------------------------------
compose = load_all(os.path.join(DEPLOY, "compose.staged.yaml"))[0]
svc = compose.get("services", {})
with open(os.path.join(DEPLOY, "Dockerfile")) as f:
    image_env = dict(re.findall(r"(AFTERMATH_\w+)=(\S+)", f.read()))
image_env.pop("AFTERMATH_METRICS", None)
roles = {}
for name, s in svc.items():
    env = {k: str(v) for k, v in (s.get("environment") or {}).items()}
    if "AFTERMATH_ROLE" in env:
        roles[name] = env["AFTERMATH_ROLE"]
check(sorted(roles.values()) == ["correlate", "correlate", "decode", "view"],
      "compose.staged: roles %s, not 1 decode, 2 correlate, 1 view" % roles)
creates = topic_commands(" ".join(svc.get("topics", {}).get("command", [])).replace("$$@", ""))
cenv_any = {k: str(v) for k, v in (svc.get(next(iter(roles), ""), {}).get("environment") or {}).items()}
c_keyed = cenv_any.get("AFTERMATH_KEYED_TOPIC")
c_incidents = cenv_any.get("AFTERMATH_INCIDENTS_TOPIC")
c_parts = check_topics("compose.staged topics", creates, c_keyed, c_incidents)
check(c_parts and list(roles.values()).count("correlate") <= c_parts,
      "compose.staged: more correlate instances than keyed partitions (%s)" % c_parts)
correlate_vols = []
for name, role in roles.items():
    s = svc[name]
    env = dict(image_env, **{k: str(v) for k, v in (s.get("environment") or {}).items()})
    ports["compose.staged %s" % name] = port_of(env.get("AFTERMATH_METRICS"))
    deps = s.get("depends_on", {})
    check(isinstance(deps, dict) and deps.get("topics", {}).get("condition") ==
          "service_completed_successfully", "compose.staged: %s does not wait for the topics" % name)
    cfg = print_config(os.path.join(DEPLOY, "aftermath.yaml"), env)
    check_role_config("compose.staged %s" % name, cfg, role, "/data", c_keyed, c_incidents)
    if role == "correlate":
        vols = [str(v).split(":")[0] for v in s.get("volumes", [])]
        check(len(vols) == 1 and vols[0] in (compose.get("volumes") or {}),
              "compose.staged: %s has no named volume of its own" % name)
        correlate_vols += vols
    if role == "view":
        check(s.get("hostname"), "compose.staged: the view has no fixed hostname (its group has it)")
check(len(set(correlate_vols)) == len(correlate_vols), "compose.staged: correlate instances share a volume")
prom_vol = [str(v) for v in svc.get("prometheus", {}).get("volumes", [])]
check(prom_vol and prom_vol[0].startswith("./prometheus/prometheus-staged.yml:"),
      "compose.staged: prometheus does not use prometheus-staged.yml")
prom = load_all(os.path.join(DEPLOY, "prometheus", "prometheus-staged.yml"))[0]
scraped = {}
for sc in prom.get("scrape_configs", []):
    for st in sc.get("static_configs", []):
        for t in st.get("targets", []):
            scraped[t.rsplit(":", 1)[0]] = st.get("labels", {}).get("role")
            ports["prometheus-staged %s" % t] = port_of(t)
check(scraped == roles, "prometheus-staged: targets and role labels %s are not the aftermath "
      "services %s" % (scraped, roles))

# --- one metrics port, the code's default ----------------------------------
defaults = print_config(os.path.join(DEPLOY, "aftermath.yaml"), {}) or {}
code_port = port_of(defaults.get("metrics"))
print("metrics ports: %s" % ports)
check({p for p in ports.values()} == {code_port},
      "staged metrics ports %s are not all the code's default %s" % (ports, code_port))

finish("staged deploy files consistent: keyed partitions %s (Kubernetes), %s (compose)" % (nparts, c_parts))
