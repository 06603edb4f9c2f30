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


if __name__ == "__main__":
    main()
