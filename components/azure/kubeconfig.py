"""Rewrite the AKS user kubeconfig for a kubelogin login mode (pure functions).

The stacks keep `cluster.kubeloginMode: azurecli` (for people). CI switches the same kubeconfig to
`workloadidentity` at exec time through kubelogin's environment: `get-token` applies AAD_LOGIN_METHOD (and
AZURE_CLIENT_ID, AZURE_TENANT_ID) after parsing its flags, so the variable wins over `--login`
(Azure/kubelogin pkg/cmd/token.go, pkg/internal/token/options.go UpdateFromEnv; v0.2.18 and later), and
in workloadidentity mode with ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN set it asks GitHub for a fresh token for
every Entra token (pkg/internal/token/provider.go, githubactionscredential.go). Two things in a kubeconfig
would defeat that override, so the rewrite never keeps them: the flag `--disable-environment-override`
(UpdateFromEnv then reads no variable at all) and an AAD_LOGIN_METHOD entry in the exec plugin's own `env`
(client-go puts those after the process environment). See docs/ci-auth.md.
"""

from __future__ import annotations

import base64

import yaml

AKS_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
# kubelogin's environment variable for --login (Azure/kubelogin pkg/internal/env/variables.go LoginMethod).
_LOGIN_METHOD_ENV = "AAD_LOGIN_METHOD"

# Flags kubelogin takes per login mode beside --login and --server-id; every other flag is dropped (among
# them --disable-environment-override, which would make CI's AAD_LOGIN_METHOD ineffective).
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
        if exec_.get("env"):
            kept = [item for item in exec_["env"] if (item or {}).get("name") != _LOGIN_METHOD_ENV]
            exec_["env"] = kept or None
    return yaml.safe_dump(doc, sort_keys=False)


def decode(value: str) -> str:
    """AKS returns kubeconfigs base64-encoded."""
    return base64.b64decode(value).decode()
