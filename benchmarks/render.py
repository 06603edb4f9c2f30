"""Render time of each stack next to the floor: importing the SDKs the program uses.

    venv/bin/python benchmarks/render.py [--runs N]

Each measurement runs in a fresh interpreter (imports are cached per process), and the
best of N runs is reported, as wall-clock seconds on this machine.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STACKS = ("dev", "staging", "prod")

_IMPORTS = "import pulumi, pulumi_azure_native, pulumi_kubernetes, pulumi_random, pydantic, yaml"
# The SDK classes the program instantiates: the SDKs load them lazily, so the floor touches each one.
_CLASSES = {
    "pulumi_azure_native.authorization": ["RoleAssignment", "get_client_config_output"],
    "pulumi_azure_native.containerregistry": ["Registry"],
    "pulumi_azure_native.containerservice": [
        "ManagedCluster",
        "AgentPool",
        "MaintenanceConfiguration",
        "list_managed_cluster_user_credentials_output",
    ],
    "pulumi_azure_native.dns": ["Zone", "RecordSet"],
    "pulumi_azure_native.keyvault": ["Vault", "Secret"],
    "pulumi_azure_native.managedidentity": ["UserAssignedIdentity", "FederatedIdentityCredential"],
    "pulumi_azure_native.network": ["PublicIPAddress"],
    "pulumi_azure_native.operationalinsights": ["Workspace"],
    "pulumi_azure_native.resources": ["ResourceGroup"],
    "pulumi_kubernetes.apiextensions": ["CustomResource"],
    "pulumi_kubernetes.apps.v1": ["Deployment"],
    "pulumi_kubernetes.autoscaling.v2": ["HorizontalPodAutoscaler"],
    "pulumi_kubernetes.core.v1": ["Namespace", "Service", "ConfigMap", "ServiceAccount", "ResourceQuota"],
    "pulumi_kubernetes.helm.v3": ["Release"],
    "pulumi_kubernetes.networking.v1": ["NetworkPolicy"],
    "pulumi_kubernetes.policy.v1": ["PodDisruptionBudget"],
    "pulumi_kubernetes.rbac.v1": ["Role", "RoleBinding"],
    "pulumi_random": ["RandomPassword"],
}
_IMPORT_FLOOR = f"""
import importlib, time
t = time.perf_counter()
{_IMPORTS}
for module, names in {_CLASSES!r}.items():
    mod = importlib.import_module(module)
    for name in names:
        getattr(mod, name)
print(time.perf_counter() - t)
"""
_RENDER = """
import sys, time, json
t = time.perf_counter()
sys.path.insert(0, {root!r})
from pathlib import Path
from tools.plan import engine, stackconfig
plan = engine.run(Path({root!r}), stackconfig.load(Path({root!r}), {stack!r}))
print(json.dumps({{"seconds": time.perf_counter() - t, "resources": len(plan.resources)}}))
"""


_SCALE = """
import sys, time, json
sys.path.insert(0, {root!r})
from pathlib import Path
from tools.plan import engine, stackconfig
engine.run(Path({root!r}), stackconfig.load(Path({root!r}), "prod"))  # warm-up: imports, first-use costs
cfg = stackconfig.load(Path({root!r}), "prod")
apps = cfg.values["broxiva-platform:apps"]
template = apps["broxiva-api"]
routed = {{k: v for k, v in apps.items() if v["kind"] == "service"}}
for i in range({n} - len(routed)):
    apps[f"svc-{{i:03d}}"] = {{**template, "image": f"svc-{{i:03d}}", "pathPrefix": f"/svc-{{i:03d}}"}}
t = time.perf_counter()
plan = engine.run(Path({root!r}), cfg)
print(json.dumps({{"seconds": time.perf_counter() - t, "resources": len(plan.resources)}}))
"""
_DIFFS = """
import sys, json
sys.path.insert(0, {root!r})
from pathlib import Path
from tools.plan import diff, engine, stackconfig
root = Path({root!r})
def render(sets=()):
    return engine.run(root, stackconfig.load(root, "prod", sets=list(sets)))
base = render()
cases = {{
    "flip activeColor blue->green": [("activeColor", "green")],
    "canary step 0->5": [("canaryWeight", "5")],
    "release to idle color (green tag)": [("colors.green.tag", "v1.5.1")],
    "rollback (green->blue) after a flip": None,
}}
out = {{}}
for label, sets in cases.items():
    if sets is None:
        result = diff.diff(render([("activeColor", "green")]), base)
    else:
        result = diff.diff(base, render(sets))
    out[label] = {{"add": len(result.added), "change": len(result.changed), "delete": len(result.removed),
                   "changed": sorted(c.type.rsplit(":", 1)[1] + " " + c.name for c in result.changed)}}
print(json.dumps(out))
"""


def _python(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    floor = min(float(_python(_IMPORT_FLOOR)) for _ in range(args.runs))
    print(f"SDK import floor: {floor:.3f}s (best of {args.runs})")
    print(f"{'stack':8} {'resources':>9} {'render s':>9} {'ratio':>6}")
    for stack in STACKS:
        runs = [json.loads(_python(_RENDER.format(root=str(ROOT), stack=stack))) for _ in range(args.runs)]
        best = min(r["seconds"] for r in runs)
        print(f"{stack:8} {runs[0]['resources']:9d} {best:9.3f} {best / floor:6.2f}")

    print()
    print("prod with N routed apps (a warm process: SDK imports and first-use costs excluded):")
    print(f"{'apps':>5} {'resources':>9} {'render s':>9} {'ms/resource':>12}")
    for n in (2, 20, 200):
        runs = [json.loads(_python(_SCALE.format(root=str(ROOT), n=n))) for _ in range(args.runs)]
        best = min(r["seconds"] for r in runs)
        print(f"{n:5d} {runs[0]['resources']:9d} {best:9.3f} {1000 * best / runs[0]['resources']:12.2f}")

    print()
    print("changed resources per operation on prod (floor: the Services or routes or Deployments that must move):")
    diffs = json.loads(_python(_DIFFS.format(root=str(ROOT))))
    for label, d in diffs.items():
        print(f"  {label}: +{d['add']} ~{d['change']} -{d['delete']}  {', '.join(d['changed'])}")


if __name__ == "__main__":
    main()
