#!/usr/bin/env python3
"""Schema validation of the custom resources in rendered manifests (run by scripts/validate-deploy).

  validate_crds.py [--builtin-out DIR] FILE.yaml...

With --builtin-out, nothing is validated: every document of a built-in kind is written to DIR (one
file each) for kubernetes-validate, so the two validators split the documents by one list.

kubernetes-validate knows only the built-in kinds. The others are checked here:

  serving.knative.dev/v1 Service      the Knative Serving models of cloudcoil-models-knative-serving
  sources.knative.dev/v1 PingSource   the Knative Eventing models of cloudcoil-models-knative-eventing
  autoscaling.k8s.io/v1 VPA           a JSON schema of the VerticalPodAutoscaler API written below

The pydantic models check types and enums but ignore unknown fields, so every field of the input
is also walked against the model's fields: a misspelt or misplaced field is an error, as with
kubernetes-validate --strict. Then a few rules the schemas cannot express (Knative autoscaling
annotations, the reserved PORT variable, a PingSource's cron and sink).

Every document of another API group that is not built into Kubernetes is an error, so a new
custom resource cannot slip through unvalidated. Exit status 1 on any problem.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import jsonschema
import pydantic
import yaml

warnings.filterwarnings("ignore", category=UserWarning)

from cloudcoil.models.knative_eventing.sources import v1 as knative_sources  # noqa: E402
from cloudcoil.models.knative_serving.serving import v1 as knative_serving  # noqa: E402

# API groups built into Kubernetes (validated by kubernetes-validate instead).
BUILTIN_GROUPS = {
    "", "apps", "batch", "autoscaling", "policy", "networking.k8s.io", "rbac.authorization.k8s.io",
    "storage.k8s.io", "scheduling.k8s.io", "coordination.k8s.io", "discovery.k8s.io",
    "admissionregistration.k8s.io", "apiextensions.k8s.io", "certificates.k8s.io", "node.k8s.io",
}

QUANTITY = {"oneOf": [{"type": "string", "pattern": r"^[0-9.]+([eE][0-9]+|[numkKMGTPE]i?)?$"}, {"type": "number"}]}
RESOURCES = {"type": "object", "additionalProperties": QUANTITY, "propertyNames": {"enum": ["cpu", "memory"]}}
VPA_SCHEMA = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "autoscaling.k8s.io/v1"},
        "kind": {"const": "VerticalPodAutoscaler"},
        "metadata": {"type": "object", "required": ["name"]},
        "spec": {
            "type": "object",
            "required": ["targetRef"],
            "additionalProperties": False,
            "properties": {
                "targetRef": {
                    "type": "object",
                    "required": ["kind", "name"],
                    "additionalProperties": False,
                    "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "name": {"type": "string"}},
                },
                "updatePolicy": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "updateMode": {"enum": ["Off", "Initial", "Recreate", "Auto", "InPlaceOrRecreate"]},
                        "minReplicas": {"type": "integer", "minimum": 1},
                        "evictionRequirements": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["resources", "changeRequirement"],
                                "properties": {
                                    "resources": {"type": "array", "items": {"enum": ["cpu", "memory"]}},
                                    "changeRequirement": {"enum": ["TargetHigherThanRequests", "TargetLowerThanRequests"]},
                                },
                            },
                        },
                    },
                },
                "resourcePolicy": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "containerPolicies": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "additionalProperties": False,
                                "properties": {
                                    "containerName": {"type": "string"},
                                    "mode": {"enum": ["Auto", "Off"]},
                                    "minAllowed": RESOURCES,
                                    "maxAllowed": RESOURCES,
                                    "controlledResources": {"type": "array", "items": {"enum": ["cpu", "memory"]}},
                                    "controlledValues": {"enum": ["RequestsAndLimits", "RequestsOnly"]},
                                },
                            },
                        }
                    },
                },
                "recommenders": {
                    "type": "array",
                    "items": {"type": "object", "required": ["name"], "additionalProperties": False, "properties": {"name": {"type": "string"}}},
                },
            },
        },
    },
}

problems: list[str] = []


def unknown_fields(model: pydantic.BaseModel, raw, path: str) -> None:
    """Every key of `raw` must be a field of `model` (by alias or name), recursively."""
    if not isinstance(raw, dict):
        return
    fields = type(model).model_fields
    by_key = {}
    for name, f in fields.items():
        by_key[f.alias or name] = name
        by_key[name] = name
    for key, value in raw.items():
        if key not in by_key:
            problems.append(f"{path}.{key}: unknown field (not in the {type(model).__name__} schema)")
            continue
        descend(getattr(model, by_key[key]), value, f"{path}.{key}")


def descend(value, raw, path: str) -> None:
    if isinstance(value, pydantic.RootModel):
        return
    if isinstance(value, pydantic.BaseModel):
        unknown_fields(value, raw, path)
    elif isinstance(value, list) and isinstance(raw, list):
        for i, (v, r) in enumerate(zip(value, raw)):
            descend(v, r, f"{path}[{i}]")
    elif isinstance(value, dict) and isinstance(raw, dict):
        for k, v in value.items():
            if k in raw:
                descend(v, raw[k], f"{path}.{k}")


def check_knative_service(doc: dict, where: str) -> None:
    m = knative_serving.Service.model_validate(doc)
    unknown_fields(m, doc, where)
    tmpl = doc.get("spec", {}).get("template", {})
    ann = (tmpl.get("metadata") or {}).get("annotations") or {}
    scale = {}
    for k in ("min-scale", "max-scale", "initial-scale", "target"):
        v = ann.get(f"autoscaling.knative.dev/{k}")
        if v is None:
            continue
        if not isinstance(v, str) or not v.isdigit():
            problems.append(f"{where}: annotation autoscaling.knative.dev/{k} must be a whole number in a string, got {v!r}")
        else:
            scale[k] = int(v)
    if "min-scale" in scale and "max-scale" in scale and scale["min-scale"] > scale["max-scale"]:
        problems.append(f"{where}: min-scale {scale['min-scale']} exceeds max-scale {scale['max-scale']}")
    containers = (tmpl.get("spec") or {}).get("containers") or []
    ports = [p for c in containers for p in (c.get("ports") or [])]
    if len(ports) > 1:
        problems.append(f"{where}: Knative accepts one container port, got {len(ports)}")
    for c in containers:
        for e in c.get("env") or []:
            if e.get("name") in ("PORT", "K_SERVICE", "K_CONFIGURATION", "K_REVISION"):
                problems.append(f"{where}: env {e['name']} is reserved by Knative")
        for probe in ("livenessProbe", "readinessProbe"):
            http = (c.get(probe) or {}).get("httpGet") or {}
            if "port" in http and ports and http["port"] != ports[0].get("containerPort"):
                problems.append(f"{where}: {probe} port must be the container port or omitted")


def cron_ok(expr: str) -> bool:
    parts = expr.split()
    if expr.startswith("CRON_TZ=") or expr.startswith("TZ="):
        parts = parts[1:]
    if len(parts) != 5:
        return False
    import re

    return all(re.fullmatch(r"[\d*/,\-A-Za-z]+", p) for p in parts)


def check_pingsource(doc: dict, where: str, names: set[tuple[str, str]]) -> None:
    m = knative_sources.PingSource.model_validate(doc)
    unknown_fields(m, doc, where)
    spec = doc.get("spec") or {}
    if not cron_ok(str(spec.get("schedule", ""))):
        problems.append(f"{where}: spec.schedule {spec.get('schedule')!r} is not a 5-field cron expression")
    sink = spec.get("sink") or {}
    ref = sink.get("ref")
    if not ref and not sink.get("uri"):
        problems.append(f"{where}: spec.sink needs a ref or a uri")
    if ref and (ref.get("kind"), ref.get("name")) not in names:
        problems.append(f"{where}: spec.sink.ref {ref.get('kind')} {ref.get('name')} is not in the same render")


def main(args: list[str]) -> int:
    builtin_out = None
    if args[:1] == ["--builtin-out"]:
        builtin_out, args = Path(args[1]), args[2:]
    files = args
    checked = 0
    for f in files:
        docs = [d for d in yaml.safe_load_all(Path(f).read_text()) if isinstance(d, dict)]
        names = {(d.get("kind"), (d.get("metadata") or {}).get("name")) for d in docs}
        for d in docs:
            api = d.get("apiVersion", "")
            group = api.split("/")[0] if "/" in api else ""
            if group in BUILTIN_GROUPS:
                if builtin_out is not None:
                    name = f"{Path(f).stem}--{d.get('kind')}--{(d.get('metadata') or {}).get('name')}.yaml"
                    (builtin_out / name).write_text(yaml.safe_dump(d, sort_keys=False))
                continue
            if builtin_out is not None:
                continue
            where = f"{Path(f).name}: {d.get('kind')} {(d.get('metadata') or {}).get('name')}"
            checked += 1
            try:
                if (api, d.get("kind")) == ("serving.knative.dev/v1", "Service"):
                    check_knative_service(d, where)
                elif (api, d.get("kind")) == ("sources.knative.dev/v1", "PingSource"):
                    check_pingsource(d, where, names)
                elif (api, d.get("kind")) == ("autoscaling.k8s.io/v1", "VerticalPodAutoscaler"):
                    for e in jsonschema.Draft202012Validator(VPA_SCHEMA).iter_errors(d):
                        problems.append(f"{where}: {'.'.join(str(p) for p in e.absolute_path)}: {e.message}")
                else:
                    problems.append(f"{where}: no schema for {api} {d.get('kind')}: add one to scripts/tools/validate_crds.py")
            except pydantic.ValidationError as e:
                for err in e.errors():
                    loc = ".".join(str(x) for x in err["loc"])
                    problems.append(f"{where}: {loc}: {err['msg']}")
    if builtin_out is not None:
        return 0
    for p in problems:
        print(f"  FAIL {p}")
    print(f"custom resources: {checked} checked, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
