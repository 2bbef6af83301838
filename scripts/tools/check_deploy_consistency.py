#!/usr/bin/env python3
"""Consistency of the deployment files with the code (run by scripts/validate-deploy).

  check_deploy_consistency.py --repo . --payroll target/debug/payroll --rendered DIR

Checks, each with a message that names the file and what to change:

  functions   every crate under functions/ (but the `payroll` CLI) is an AWS::Serverless::Function
              of template.yaml built with cargo-lambda (rust-cargolambda, provided.al2023, arm64,
              JSON logs), with the event source its code expects: API functions (main_for(&[Group::..]))
              behind the HTTP API, SQS workers (SqsEvent) with ReportBatchItemFailures, batch size,
              maximum concurrency and a queue with a dead-letter redrive, scheduled jobs
              (EventBridgeEvent) on a schedule; no function without a crate
  env         every environment variable the template and the ConfigMaps set is one the code reads
  routes      every route of the service (`payroll routes --json`: taken from the routers) is
              reachable through the HTTP API and lands on a function whose endpoint groups serve
              it; every gateway route matches some route of the service; every `.route("..")`
              in shared/api/src/routes/ is in that list
  commands    every `payroll ...` the rendered manifests, the Dockerfile and the deploy workflow
              run names existing subcommands and options (checked against `payroll ... --help`)
  metrics     every metric the alert rules and the Grafana dashboard query is one the code
              exports (or a listed metric of Kubernetes / redis_exporter)
  seed        the production render keeps the seed's topology (namespace, replicas, probes,
              resources, HPA, ingress annotations, network policy ports)
  workflow    the deploy workflow keeps the seed's pipeline order and the protected environment

Exit status 1 with one line per problem; 0 when everything holds.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

BASE_PATH = "/api/payroll/v1"
IMAGE = "auraconnect/payroll"
# Routes deliberately not exposed through API Gateway (with the reason shown in the output).
NOT_ROUTED = {
    ("GET", "/metrics"): "Prometheus scrape endpoint: Lambda has nothing to scrape (metrics go to CloudWatch)",
}
# Environment variables read by libraries or the platform rather than by our code.
ENV_READ_ELSEWHERE = {
    "RUST_LOG": "tracing-subscriber's EnvFilter",
    "AWS_REGION": "the AWS SDK (region)",
}
# Metrics that come from the platform, not from the payroll service.
EXTERNAL_METRICS = {
    "up": "Prometheus (scrape health)",
    "container_cpu_usage_seconds_total": "cAdvisor (kubelet)",
    "container_memory_working_set_bytes": "cAdvisor (kubelet)",
    "container_fs_usage_bytes": "cAdvisor (kubelet)",
    "kube_pod_container_resource_limits": "kube-state-metrics",
    "kube_deployment_status_replicas_available": "kube-state-metrics",
    "redis_stream_group_lag": "redis_exporter --check-streams",
    "redis_stream_group_messages_pending": "redis_exporter --check-streams",
}

problems: list[str] = []
checked: dict[str, int] = {}


def fail(area: str, msg: str) -> None:
    problems.append(f"[{area}] {msg}")


def count(area: str, n: int = 1) -> None:
    checked[area] = checked.get(area, 0) + n


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


class CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags (!Ref X -> {"Ref": X}, ...)."""


def _cfn_tag(loader: CfnLoader, suffix: str, node: yaml.Node):
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CfnLoader.add_multi_constructor("!", _cfn_tag)


def load_template(path: Path) -> dict:
    with path.open() as f:
        return yaml.load(f, Loader=CfnLoader)


def load_docs(path: Path) -> list[dict]:
    with path.open() as f:
        return [d for d in yaml.safe_load_all(f) if isinstance(d, dict)]


def ref_name(v) -> str | None:
    """The logical id in !Ref X / !GetAtt X.Attr, else None."""
    if isinstance(v, dict):
        if "Ref" in v:
            return v["Ref"]
        if "Fn::GetAtt" in v:
            return v["Fn::GetAtt"][0]
    return None


# ---------------------------------------------------------------------------------------------
# The code: crates, their kind, groups, env vars, metrics
# ---------------------------------------------------------------------------------------------


def crate_name(cargo_toml: Path) -> str | None:
    m = re.search(r'(?ms)^\[package\].*?^name\s*=\s*"([^"]+)"', cargo_toml.read_text())
    return m.group(1) if m else None


def classify(crate_dir: Path) -> tuple[str, list[str]]:
    """(kind, groups): kind is api | sqs | schedule | unknown; groups for api functions."""
    src = "\n".join(p.read_text() for p in sorted((crate_dir / "src").rglob("*.rs")))
    groups = re.findall(r"Group::([A-Z][A-Za-z]+)", src) if "main_for(" in src else []
    if groups:
        return "api", sorted({g.lower() for g in groups})
    if re.search(r"\bSqsEvent\b|\bSqsBatchResponse\b", src):
        return "sqs", []
    if re.search(r"\bEventBridgeEvent\b|\bCloudWatchEvent\b", src):
        return "schedule", []
    return "unknown", []


def rust_sources(repo: Path) -> str:
    parts = []
    for top in ("shared", "functions"):
        for p in sorted((repo / top).rglob("*.rs")):
            if "/tests/" in str(p) or "/target/" in str(p):
                continue
            parts.append(p.read_text())
    return "\n".join(parts)


def env_vars_read(src: str) -> set[str]:
    """Every UPPER_CASE string literal of the sources: what `std::env::var("X")`, constants such
    as `ENV_LEAD_DAYS: &str = "SCHEDULER_LEAD_DAYS"` and helpers like `env("X")` read."""
    names = set(re.findall(r'"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)"', src))
    names |= set(re.findall(r'\b(?:var|var_os|env|env_var|parse_env|env_u32)\(\s*"([A-Z][A-Z0-9_]*)"', src))
    return names


def exported_metrics(src: str) -> set[str]:
    names = set(re.findall(r'(?:counter|gauge|histogram)!\(\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)"', src))
    names |= set(re.findall(r'pub const [A-Z_]+: &str = "((?:payroll|http|db|cache)_[a-z0-9_]+)"', src))
    return names


# ---------------------------------------------------------------------------------------------
# functions <-> template.yaml
# ---------------------------------------------------------------------------------------------


def merged_function_props(tpl: dict, props: dict) -> dict:
    g = dict((tpl.get("Globals") or {}).get("Function") or {})
    out = dict(g)
    for k, v in props.items():
        if k == "Environment" and "Environment" in g:
            vars_ = dict(g["Environment"].get("Variables", {}))
            vars_.update(v.get("Variables", {}))
            out[k] = {"Variables": vars_}
        else:
            out[k] = v
    return out


def check_functions(repo: Path, tpl: dict, env_read: set[str]) -> dict[str, dict]:
    """Returns {logical id: {"crate": name, "kind": .., "groups": [..]}} for the functions."""
    res = tpl.get("Resources", {})
    crates: dict[str, tuple[Path, str, list[str]]] = {}
    for cargo in sorted((repo / "functions").glob("*/Cargo.toml")):
        name = crate_name(cargo)
        if name is None or name == "payroll":
            continue  # the CLI / Kubernetes binary is not a Lambda function
        kind, groups = classify(cargo.parent)
        crates[name] = (cargo.parent, kind, groups)
        if kind == "unknown":
            fail("functions", f"functions/{cargo.parent.name}: cannot tell its trigger (no main_for(&[Group::..]), SqsEvent or EventBridgeEvent in src/)")

    by_binary: dict[str, str] = {}
    funcs: dict[str, dict] = {}
    for lid, r in res.items():
        if r.get("Type") != "AWS::Serverless::Function":
            continue
        count("functions")
        meta = r.get("Metadata") or {}
        binary = (meta.get("BuildProperties") or {}).get("Binary")
        if meta.get("BuildMethod") != "rust-cargolambda":
            fail("functions", f"template.yaml {lid}: Metadata.BuildMethod must be rust-cargolambda")
        if not binary:
            fail("functions", f"template.yaml {lid}: Metadata.BuildProperties.Binary (the crate's binary) is missing")
            continue
        if binary in by_binary:
            fail("functions", f"template.yaml {lid}: binary {binary} is already deployed by {by_binary[binary]}")
        by_binary[binary] = lid
        p = merged_function_props(tpl, r.get("Properties") or {})
        if p.get("Runtime") != "provided.al2023":
            fail("functions", f"template.yaml {lid}: Runtime must be provided.al2023 (got {p.get('Runtime')!r})")
        if p.get("Architectures") != ["arm64"]:
            fail("functions", f"template.yaml {lid}: Architectures must be [arm64] (got {p.get('Architectures')!r})")
        if p.get("Handler") != "bootstrap":
            fail("functions", f"template.yaml {lid}: Handler must be bootstrap")
        code_uri = p.get("CodeUri")
        if not isinstance(code_uri, str) or not (repo / code_uri / "Cargo.toml").is_file():
            fail("functions", f"template.yaml {lid}: CodeUri {code_uri!r} must be the workspace root (cargo-lambda copies target/lambda/<binary>/bootstrap from there)")
        if (p.get("LoggingConfig") or {}).get("LogFormat") != "JSON":
            fail("functions", f"template.yaml {lid}: LoggingConfig.LogFormat must be JSON")
        for var in ((p.get("Environment") or {}).get("Variables") or {}):
            count("env")
            if var not in env_read and var not in ENV_READ_ELSEWHERE:
                fail("env", f"template.yaml {lid}: environment variable {var} is not read anywhere in shared/ or functions/")
        if binary not in crates:
            fail("functions", f"template.yaml {lid}: Binary {binary} is not a crate under functions/ (missing, or not yet written)")
            continue
        _, kind, groups = crates[binary]
        funcs[lid] = {"crate": binary, "kind": kind, "groups": groups, "props": p}
        events = p.get("Events") or {}
        if kind == "sqs":
            check_sqs_events(lid, events, res)
        elif kind == "schedule":
            if not any(e.get("Type") in ("Schedule", "ScheduleV2") for e in events.values()):
                fail("functions", f"template.yaml {lid}: functions/{binary} handles EventBridge events but has no Schedule event")
        elif kind == "api" and events:
            fail("functions", f"template.yaml {lid}: API function with SAM Events; its routes are ApiGatewayV2 resources")
    for name in crates:
        if name not in by_binary:
            fail("functions", f"functions/{crates[name][0].name} (crate {name}) is not deployed by template.yaml: add an AWS::Serverless::Function with BuildProperties.Binary: {name}")
    return funcs


def check_sqs_events(lid: str, events: dict, res: dict) -> None:
    sqs = [e for e in events.values() if e.get("Type") == "SQS"]
    if not sqs:
        fail("functions", f"template.yaml {lid}: an SQS worker needs an SQS event source")
        return
    for e in sqs:
        p = e.get("Properties") or {}
        if "ReportBatchItemFailures" not in (p.get("FunctionResponseTypes") or []):
            fail("functions", f"template.yaml {lid}: SQS event needs FunctionResponseTypes: [ReportBatchItemFailures] (the worker returns SqsBatchResponse)")
        if "BatchSize" not in p:
            fail("functions", f"template.yaml {lid}: SQS event needs a BatchSize")
        if "MaximumConcurrency" not in (p.get("ScalingConfig") or {}):
            fail("functions", f"template.yaml {lid}: SQS event needs ScalingConfig.MaximumConcurrency")
        q = ref_name(p.get("Queue"))
        qr = res.get(q or "", {})
        if qr.get("Type") != "AWS::SQS::Queue":
            fail("functions", f"template.yaml {lid}: SQS event Queue must be !GetAtt <queue>.Arn of a queue in the template")
            continue
        rp = (qr.get("Properties") or {}).get("RedrivePolicy") or {}
        dlq = ref_name(rp.get("deadLetterTargetArn"))
        if (res.get(dlq or "", {})).get("Type") != "AWS::SQS::Queue" or "maxReceiveCount" not in rp:
            fail("functions", f"template.yaml {q}: needs a RedrivePolicy (deadLetterTargetArn of a dead-letter queue, maxReceiveCount)")


# ---------------------------------------------------------------------------------------------
# routes <-> HTTP API
# ---------------------------------------------------------------------------------------------


def segs(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def gateway_match(route_path: str, service_path: str) -> tuple[int, int] | None:
    """Does the gateway route path match the service path (its {params} stand for values)?
    Returns a precedence key (greedy last, then more literal segments first), or None."""
    rs, ss = segs(route_path), segs(service_path)
    greedy = bool(rs) and rs[-1].endswith("+}")
    if greedy:
        fixed = rs[:-1]
        if len(ss) <= len(fixed):
            return None
    else:
        fixed = rs
        if len(ss) != len(fixed):
            return None
    literal = 0
    for r, s in zip(fixed, ss):
        if r.startswith("{"):
            continue
        if s.startswith("{") or r != s:
            return None
        literal += 1
    return (1 if greedy else 0, -literal)


def check_routes(repo: Path, tpl: dict, funcs: dict, routes: list[dict]) -> None:
    res = tpl.get("Resources", {})
    gw_routes = []
    for lid, r in res.items():
        if r.get("Type") != "AWS::ApiGatewayV2::Route":
            continue
        p = r.get("Properties") or {}
        key = p.get("RouteKey", "")
        if key == "$default":
            fail("routes", f"template.yaml {lid}: a $default route would send unknown paths to one function; route paths explicitly")
            continue
        method, _, path = key.partition(" ")
        target = p.get("Target")
        integ = None
        if isinstance(target, dict) and "Fn::Sub" in target:
            m = re.fullmatch(r"integrations/\$\{(\w+)\}", target["Fn::Sub"] if isinstance(target["Fn::Sub"], str) else "")
            integ = m.group(1) if m else None
        ir = res.get(integ or "", {})
        fn = ref_name((ir.get("Properties") or {}).get("IntegrationUri"))
        if ir.get("Type") != "AWS::ApiGatewayV2::Integration" or fn not in funcs:
            fail("routes", f"template.yaml {lid} ({key}): Target must be !Sub integrations/${{<Integration>}} of an API function's AWS_PROXY integration")
            continue
        if funcs[fn]["kind"] != "api":
            fail("routes", f"template.yaml {lid} ({key}): routes to {fn}, which is not an API function")
        gw_routes.append({"id": lid, "method": method, "path": path, "fn": fn, "used": False})

    for r in routes:
        method, path, groups, kind = r["method"], r["path"], r["groups"], r["kind"]
        count("routes")
        if (method, path) in NOT_ROUTED:
            continue
        cands = []
        for g in gw_routes:
            key = gateway_match(g["path"], path)
            if key is None or g["method"] not in (method, "ANY"):
                continue
            cands.append((key, 0 if g["method"] == method else 1, g))
        if not cands:
            fail("routes", f"{method} {path} (group {','.join(groups)}) is not reachable through the HTTP API: add a route (e.g. ANY {path_prefix(path)}) to the function serving it")
            continue
        cands.sort(key=lambda c: (c[0], c[1]))
        g = cands[0][2]
        g["used"] = True
        f = funcs[g["fn"]]
        if kind == "ops":
            continue  # every API function serves /health, /ready and /openapi.json
        if not set(groups) & set(f["groups"]):
            fail("routes", f"{method} {path} is served by group(s) {groups} but the HTTP API sends it ({g['method']} {g['path']}) to {g['fn']} (functions/{f['crate']}: groups {f['groups']})")
    for g in gw_routes:
        if not g["used"]:
            fail("routes", f"template.yaml {g['id']} ({g['method']} {g['path']}) matches no route of the service")

    # The routers' own literals must all be in the list `payroll routes` derived from OpenAPI.
    listed = {r["path"] for r in routes}
    for p in sorted((repo / "shared/api/src/routes").glob("*.rs")):
        for lit in re.findall(r'\.route\(\s*"([^"]+)"', p.read_text()):
            count("routes-source")
            full = lit if p.name == "ops.rs" else BASE_PATH + lit
            if full not in listed:
                fail("routes", f"{p.relative_to(repo)}: route {lit} is not in `payroll routes` (missing from the OpenAPI document?)")


def path_prefix(path: str) -> str:
    s = segs(path)
    base = segs(BASE_PATH)
    top = s[: len(base) + 1] if s[: len(base)] == base else s[:1]
    return "/" + "/".join(top) + ("/{proxy+}" if len(s) > len(top) else "")


# ---------------------------------------------------------------------------------------------
# payroll subcommands
# ---------------------------------------------------------------------------------------------


class Cli:
    """Subcommands and long options of the real binary, read from its --help pages."""

    def __init__(self, binary: str):
        self.binary = binary
        self.pages: dict[tuple[str, ...], tuple[set[str], set[str]]] = {}

    def page(self, path: tuple[str, ...]) -> tuple[set[str], set[str]] | None:
        if path not in self.pages:
            p = subprocess.run([self.binary, *path, "--help"], capture_output=True, text=True)
            if p.returncode != 0:
                self.pages[path] = None  # type: ignore[assignment]
            else:
                cmds, opts, section = set(), set(), None
                for line in p.stdout.splitlines():
                    if re.match(r"^\S.*:$", line):
                        section = line[:-1]
                        continue
                    if section == "Commands":
                        m = re.match(r"^\s{2}(\S+)", line)
                        if m and m.group(1) != "help":
                            cmds.add(m.group(1))
                    elif section == "Options":
                        m = re.match(r"^\s+(?:-\w,\s+)?--([a-z0-9][a-z0-9-]*)", line)
                        if m:
                            opts.add(m.group(1))
                self.pages[path] = (cmds, opts)
        return self.pages[path]

    def check(self, argv: list[str], where: str) -> None:
        count("commands")
        path: tuple[str, ...] = ()
        page = self.page(path)
        if page is None:
            fail("commands", f"`{self.binary} --help` failed")
            return
        i = 0
        while i < len(argv) and not argv[i].startswith("-") and argv[i] in page[0]:
            path = (*path, argv[i])
            page = self.page(path)
            if page is None:
                fail("commands", f"{where}: `payroll {' '.join(path)} --help` failed")
                return
            i += 1
        if not path:
            fail("commands", f"{where}: `payroll {' '.join(argv)}`: no such subcommand (payroll has: {', '.join(sorted(self.page(()) [0]))})")
            return
        if page[0] and i < len(argv) and not argv[i].startswith("-"):
            fail("commands", f"{where}: `payroll {' '.join(argv)}`: `payroll {' '.join(path)}` has no subcommand {argv[i]!r} (it has: {', '.join(sorted(page[0]))})")
            return
        for a in argv[i:]:
            if a.startswith("--") and len(a) > 2:
                name = a[2:].split("=", 1)[0]
                if name not in page[1] and name != "help":
                    fail("commands", f"{where}: `payroll {' '.join(argv)}`: `payroll {' '.join(path)}` has no option --{name}")


def dockerfile_entrypoint(repo: Path) -> tuple[list[str], list[str]]:
    ep, cmd = [], []
    for line in (repo / "Dockerfile").read_text().splitlines():
        m = re.match(r"^\s*(ENTRYPOINT|CMD)\s+(\[.*\])\s*$", line)
        if m:
            val = json.loads(m.group(2))
            if m.group(1) == "ENTRYPOINT":
                ep = val
            else:
                cmd = val
    return ep, cmd


def is_payroll(tok: str) -> bool:
    return tok == "payroll" or tok.endswith("/payroll")


def pod_specs(doc: dict):
    kind = doc.get("kind")
    spec = doc.get("spec") or {}
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        yield (spec.get("template") or {}).get("spec") or {}
    elif kind == "CronJob":
        yield (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec") or {}
    elif kind == "Service" and doc.get("apiVersion", "").startswith("serving.knative.dev"):
        yield (spec.get("template") or {}).get("spec") or {}
    elif kind == "Pod":
        yield spec


def check_commands(repo: Path, cli: Cli, rendered: list[Path], workflow: Path) -> None:
    ep, cmd = dockerfile_entrypoint(repo)
    if not ep or not is_payroll(ep[0]):
        fail("commands", f"Dockerfile: ENTRYPOINT must run payroll (got {ep})")
    else:
        cli.check(ep[1:] + cmd, "Dockerfile CMD")
    for f in rendered:
        for doc in load_docs(f):
            for ps in pod_specs(doc):
                for c in (ps.get("initContainers") or []) + (ps.get("containers") or []):
                    if not str(c.get("image", "")).split(":")[0].endswith(IMAGE):
                        continue
                    where = f"{f.name}: {doc['kind']} {doc['metadata']['name']} container {c.get('name')}"
                    command = c.get("command")
                    if command:
                        if not is_payroll(command[0]):
                            fail("commands", f"{where}: the payroll image runs {command[0]!r}, not payroll")
                            continue
                        argv = command[1:] + (c.get("args") or [])
                    else:
                        argv = ep[1:] + (c.get("args") if "args" in c else cmd)
                    cli.check([str(a) for a in argv], where)
    wf = yaml.safe_load(workflow.read_text())
    for job_id, job in (wf.get("jobs") or {}).items():
        for n, step in enumerate(job.get("steps") or []):
            run = step.get("run")
            if not run:
                continue
            for argv in payroll_invocations(run):
                cli.check(argv, f"{workflow.name} job {job_id} step {step.get('name', n)}")


def payroll_invocations(script: str):
    text = re.sub(r"\$\{\{[^}]*\}\}", "X", script)
    text = text.replace("\\\n", " ")
    for line in text.splitlines():
        try:
            lex = shlex.shlex(line, posix=True, punctuation_chars=True)
            lex.whitespace_split = True
            toks = list(lex)
        except ValueError:
            continue
        for i, t in enumerate(toks):
            if is_payroll(t) and (i == 0 or toks[i - 1] in ("--", "|", "&&", ";", "||", "(", "$(", "exec")):
                argv = []
                for u in toks[i + 1:]:
                    if u in ("|", "&&", ";", "||", ")", ">", ">>", "<", "&"):
                        break
                    argv.append(u)
                yield argv


# ---------------------------------------------------------------------------------------------
# env vars of the ConfigMaps; metrics of rules and dashboard
# ---------------------------------------------------------------------------------------------


def check_configmaps(rendered: list[Path], env_read: set[str]) -> None:
    for f in rendered:
        for doc in load_docs(f):
            if doc.get("kind") == "ConfigMap" and doc["metadata"]["name"] == "payroll-config":
                for var in doc.get("data") or {}:
                    count("env")
                    if var not in env_read and var not in ENV_READ_ELSEWHERE and var != "PUSHGATEWAY_URL":
                        fail("env", f"{f.name}: ConfigMap payroll-config sets {var}, which nothing reads")


PROMQL_WORDS = {
    "sum", "min", "max", "avg", "count", "rate", "irate", "increase", "by", "without", "on",
    "ignoring", "group_left", "group_right", "histogram_quantile", "time", "absent", "and", "or",
    "unless", "offset", "bool", "le", "topk", "bottomk", "delta", "deriv", "abs", "clamp_min",
    "clamp_max", "label_replace", "vector", "scalar", "avg_over_time", "max_over_time", "inf", "nan",
}


def metric_names(expr: str) -> set[str]:
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings
    e = re.sub(r"\{[^}]*\}", "", e)  # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)  # ranges
    e = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", e)  # grouping labels
    names = set()
    for m in re.finditer(r"(?<![\w$])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()", e):
        w = m.group(1)
        if w.lower() in PROMQL_WORDS or re.fullmatch(r"\d+[smhdwy]?", w):
            continue
        names.add(w)
    return names


def check_metrics(repo: Path, exported: set[str]) -> list[str]:
    mon = repo / "k8s-fallback/monitoring"
    exprs: list[tuple[str, str]] = []
    rules = yaml.safe_load((mon / "alert-rules.yml").read_text())
    for g in rules.get("groups", []):
        for r in g.get("rules", []):
            exprs.append((f"alert-rules.yml {r.get('alert') or r.get('record')}", r["expr"]))
    dash = json.loads((mon / "payroll-dashboard.json").read_text())
    titles = set()
    for p in dash.get("panels", []):
        if p.get("type") == "row":
            continue
        titles.add(p["title"].lower())
        if not p.get("targets"):
            fail("metrics", f"payroll-dashboard.json panel {p['title']!r} has no query")
        for t in p.get("targets", []):
            exprs.append((f"payroll-dashboard.json panel {p['title']!r}", t["expr"]))
    for words in ("p50", "request rate", "error rate", "connection pool", "queue length", "payment", "cpu", "memory", "disk"):
        if not any(words in t for t in titles):
            fail("metrics", f"payroll-dashboard.json: no panel for the seed's {words!r}")
    for where, expr in exprs:
        for name in metric_names(expr):
            count("metrics")
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            if name in exported or base in exported or name in EXTERNAL_METRICS:
                continue
            fail("metrics", f"{where}: metric {name} is not exported by the service (shared/, functions/) nor a known platform metric")
    return [e for _, e in exprs]


# ---------------------------------------------------------------------------------------------
# the seed, in the production render
# ---------------------------------------------------------------------------------------------


def check_seed(prod: Path) -> None:
    docs = {(d["kind"], d["metadata"]["name"]): d for d in load_docs(prod)}

    def need(cond: bool, msg: str) -> None:
        count("seed")
        if not cond:
            fail("seed", f"{prod.name}: {msg}")

    for (kind, name), d in docs.items():
        need(d["metadata"].get("namespace", "auraconnect") == "auraconnect" or kind == "Namespace",
             f"{kind} {name} is not in namespace auraconnect")
    for name, replicas in (("payroll-api", 3), ("payroll-worker", 4), ("payroll-beat", 1)):
        d = docs.get(("Deployment", name))
        need(d is not None and d["spec"].get("replicas") == replicas, f"Deployment {name} must have {replicas} replicas")
    api = docs.get(("Deployment", "payroll-api"))
    if api:
        c = api["spec"]["template"]["spec"]["containers"][0]
        need(c.get("resources") == {"requests": {"memory": "256Mi", "cpu": "250m"}, "limits": {"memory": "512Mi", "cpu": "500m"}},
             "payroll-api resources must be the seed's (requests 250m/256Mi, limits 500m/512Mi)")
        need((c.get("livenessProbe") or {}).get("httpGet", {}).get("path") == "/health", "payroll-api liveness probe must be GET /health")
        need((c.get("readinessProbe") or {}).get("httpGet", {}).get("path") == "/ready", "payroll-api readiness probe must be GET /ready")
        need(any(p.get("containerPort") == 8000 for p in c.get("ports", [])), "payroll-api must listen on 8000")
        refs = [next(iter(e.values()))["name"] for e in c.get("envFrom", [])]
        need(refs == ["payroll-config", "payroll-secret"], "payroll-api envFrom must be ConfigMap payroll-config and Secret payroll-secret")
    svc = docs.get(("Service", "payroll-service"))
    need(svc is not None and svc["spec"]["ports"][0].get("port") == 80 and svc["spec"]["ports"][0].get("targetPort") == 8000,
         "Service payroll-service must map 80 -> 8000")
    hpa = docs.get(("HorizontalPodAutoscaler", "payroll-api-hpa"))
    if hpa:
        targets = {m["resource"]["name"]: m["resource"]["target"].get("averageUtilization") for m in hpa["spec"]["metrics"]}
        need(hpa["spec"]["minReplicas"] == 3 and hpa["spec"]["maxReplicas"] == 10 and targets == {"cpu": 70, "memory": 80},
             "HPA payroll-api-hpa must scale 3-10 on CPU 70% and memory 80%")
    else:
        need(False, "HorizontalPodAutoscaler payroll-api-hpa is missing")
    need(("VerticalPodAutoscaler", "payroll-vpa") in docs, "VerticalPodAutoscaler payroll-vpa is missing")
    need(any(k == "PodDisruptionBudget" for k, _ in docs), "no PodDisruptionBudget")
    ing = docs.get(("Ingress", "payroll-ingress"))
    if ing:
        ann = ing["metadata"].get("annotations", {})
        for k, v in {"kubernetes.io/ingress.class": "nginx", "cert-manager.io/cluster-issuer": "letsencrypt-prod",
                     "nginx.ingress.kubernetes.io/ssl-protocols": "TLSv1.2 TLSv1.3",
                     "nginx.ingress.kubernetes.io/ssl-ciphers": "HIGH:!aNULL:!MD5"}.items():
            need(ann.get(k) == v, f"Ingress annotation {k} must be {v!r}")
        path = ing["spec"]["rules"][0]["http"]["paths"][0]
        need(path["path"] == "/api/payroll" and ing["spec"].get("tls"), "Ingress must serve /api/payroll over TLS")
    else:
        need(False, "Ingress payroll-ingress is missing")
    np_ = docs.get(("NetworkPolicy", "payroll-network-policy"))
    if np_:
        ports = sorted(p["port"] for e in np_["spec"]["egress"] for p in e.get("ports", []) if p["port"] != 53)
        need(ports == [5432, 6379], f"the API's egress must be 5432 and 6379 (plus DNS), got {ports}")
        need(all(p["port"] == 8000 for i in np_["spec"]["ingress"] for p in i.get("ports", [])), "the API's ingress must be port 8000 only")
    else:
        need(False, "NetworkPolicy payroll-network-policy is missing")
    cron = docs.get(("CronJob", "payroll-backup"))
    need(cron is not None, "CronJob payroll-backup is missing")
    for (kind, name), d in docs.items():
        for ps in pod_specs(d):
            for c in (ps.get("initContainers") or []) + (ps.get("containers") or []):
                sc = c.get("securityContext") or {}
                need(sc.get("readOnlyRootFilesystem") is True and sc.get("allowPrivilegeEscalation") is False,
                     f"{kind} {name} container {c['name']}: readOnlyRootFilesystem and no privilege escalation")
                need((ps.get("securityContext") or {}).get("runAsNonRoot") is True or sc.get("runAsNonRoot") is True,
                     f"{kind} {name} container {c['name']}: must run as non-root")
                need("resources" in c and "limits" in c["resources"], f"{kind} {name} container {c['name']}: resource limits")


def check_workflow(workflow: Path) -> None:
    wf = yaml.safe_load(workflow.read_text())
    jobs = wf.get("jobs") or {}
    order = ["build-and-test", "security-scan", "image", "deploy-staging", "e2e-staging", "deploy-production"]
    for a, b in zip(order, order[1:]):
        count("workflow")
        needs = (jobs.get(b) or {}).get("needs") or []
        needs = [needs] if isinstance(needs, str) else needs
        if b not in jobs:
            fail("workflow", f"{workflow.name}: job {b} is missing (the seed's pipeline: {' -> '.join(order)})")
        elif a not in needs:
            fail("workflow", f"{workflow.name}: job {b} must need {a}")
    count("workflow")
    env = (jobs.get("deploy-production") or {}).get("environment")
    name = env.get("name") if isinstance(env, dict) else env
    if name != "production":
        fail("workflow", f"{workflow.name}: deploy-production must use the protected environment `production` (manual approval)")


# ---------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", type=Path, default=Path("."))
    ap.add_argument("--payroll", required=True, help="the payroll binary")
    ap.add_argument("--rendered", type=Path, required=True, help="directory of rendered manifests (*.yaml)")
    ap.add_argument("--exprs-out", type=Path, help="write every PromQL expression checked here (JSON list)")
    a = ap.parse_args()
    repo = a.repo.resolve()
    tpl = load_template(repo / "template.yaml")
    src = rust_sources(repo)
    env_read = env_vars_read(src)
    p = subprocess.run([a.payroll, "routes", "--json"], capture_output=True, text=True)
    if p.returncode != 0:
        print(f"check_deploy_consistency: `payroll routes --json` failed: {p.stderr.strip()}", file=sys.stderr)
        return 1
    routes = json.loads(p.stdout)
    rendered = sorted(a.rendered.glob("*.yaml"))
    workflow = repo / ".github/workflows/deploy-payroll.yml"

    funcs = check_functions(repo, tpl, env_read)
    check_routes(repo, tpl, funcs, routes)
    check_commands(repo, Cli(a.payroll), rendered, workflow)
    check_configmaps(rendered, env_read)
    exprs = check_metrics(repo, exported_metrics(src))
    if a.exprs_out:
        a.exprs_out.write_text(json.dumps(exprs))
    prod = [f for f in rendered if f.name == "overlay-production.yaml"]
    if prod:
        check_seed(prod[0])
    else:
        fail("seed", "no rendered overlay-production.yaml")
    check_workflow(workflow)

    summary = ", ".join(f"{k} {v}" for k, v in sorted(checked.items()))
    if problems:
        for line in problems:
            print(f"  FAIL {line}")
        print(f"consistency: {len(problems)} problem(s) ({summary} checked)")
        return 1
    print(f"consistency: OK ({summary} checked)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
