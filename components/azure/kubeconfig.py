"""Rewrite the AKS user kubeconfig for a kubelogin login mode (pure functions)."""

from __future__ import annotations

import base64

import yaml

AKS_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"

# Flags kubelogin takes per login mode beside --login and --server-id.
_KEEP = {
    "azurecli": ("--environment", "--tenant-id"),
    "azd": ("--environment", "--tenant-id"),
    "devicecode": ("--environment", "--tenant-id", "--client-id"),
    "workloadidentity": ("--environment",),
    "msi": ("--environment",),
    "spn": ("--environment", "--tenant-id"),
}


def with_login_mode(kubeconfig: str, mode: str) -> str:
    """Point every kubelogin exec user at ``mode`` (azurecli for people, workloadidentity in CI)."""
    if mode not in _KEEP:
        raise ValueError(f"unknown kubelogin mode {mode!r}")
    doc = yaml.safe_load(kubeconfig)
    for user in doc.get("users") or []:
        exec_ = (user.get("user") or {}).get("exec")
        if not exec_ or exec_.get("command") != "kubelogin":
            continue
        args = list(exec_.get("args") or [])
        flags: dict[str, str] = {}
        i = 1 if args[:1] == ["get-token"] else 0
        while i < len(args):
            if args[i].startswith("--") and i + 1 < len(args) and not args[i + 1].startswith("--"):
                flags[args[i]] = args[i + 1]
                i += 2
            else:
                i += 1
        server_id = flags.get("--server-id", AKS_SERVER_ID)
        rebuilt = ["get-token", "--login", mode, "--server-id", server_id]
        for flag in _KEEP[mode]:
            if flag in flags:
                rebuilt += [flag, flags[flag]]
        exec_["args"] = rebuilt
    return yaml.safe_dump(doc, sort_keys=False)


def decode(value: str) -> str:
    """AKS returns kubeconfigs base64-encoded."""
    return base64.b64decode(value).decode()
