"""The GitHub Actions workflows and their setup action: valid against GitHub's schemas, and wired the way the
stacks deploy.

ci.yml runs bin/test; preview.yml plans every stack offline (forks included); cloud-preview.yml previews
it with Pulumi against Azure (branches of this repository only, the base branch's workflow); deploy.yml maps
develop -> dev, staging -> staging and release tags -> prod; traffic-switch.yml changes only activeColor or canaryWeight of one
stack's deployed configuration, from the ref it is deployed from. Every job that runs Pulumi authenticates to Azure by GitHub OIDC in
forms that renew themselves for the whole job (docs/ci-auth.md) with the identity named by
repository/environment variables, reads its state from variables, checks that the stack's secrets provider is
that stack's own key (`pulumi-<stack>` in the vault of a variable: one key per stack, made by the bootstrap),
runs the policy pack, and targets only dev, staging or prod. The cloud preview, whose identity the bootstrap
lets decrypt only the keys of its `ci.previewStacks`, previews exactly those stacks: never prod.

The shared setup (Python and the pinned dependencies, the OIDC token file, kubelogin, the Pulumi CLI) lives
in the composite action .github/actions/setup. The checks on a job look through it: each
`uses: ./.github/actions/setup` step stands for the action's steps that run with the inputs the job
passes, so a guarantee holds whether a step is written in the workflow or in the action.

The generic checks return a list of problems; each is also run against a deliberately broken copy of a
workflow or of the action, so none of them can pass by checking nothing.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from components.bootstrap.secrets_keys import secrets_provider

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW_DIR = ROOT / ".github" / "workflows"
SETUP_ACTION_FILE = ROOT / ".github" / "actions" / "setup" / "action.yml"
SETUP_ACTION = "./.github/actions/setup"
STACKS = ["dev", "staging", "prod"]
COLORS = ["blue", "green"]
EXPECTED_WORKFLOWS = {"ci.yml", "preview.yml", "cloud-preview.yml", "deploy.yml", "traffic-switch.yml"}
SECRETS_CHECK = ".github/scripts/check-secrets-provider.sh"
# The bootstrap (bootstrap/Pulumi.org.yaml, docs/bootstrap.md): the vault of the stacks' keys, and which stacks
# the preview identity (the GitHub environment previewEnvironment) may decrypt; never a production stack.
_BOOTSTRAP = yaml.safe_load((ROOT / "bootstrap" / "Pulumi.org.yaml").read_text())["config"]
VAULT = _BOOTSTRAP["broxiva-bootstrap:secrets"]["vaultName"]
PREVIEW_ENVIRONMENT = _BOOTSTRAP["broxiva-bootstrap:ci"]["previewEnvironment"]
PREVIEW_STACKS = list(_BOOTSTRAP["broxiva-bootstrap:ci"]["previewStacks"])
PRODUCTION_STACKS = list(_BOOTSTRAP["broxiva-bootstrap:ci"]["productionStacks"])
# Every variable the workflows read (Settings > Environments and > Variables; the README lists them).
VARIABLES = {
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_SUBSCRIPTION_ID",
    "PULUMI_STATE_ACCOUNT",
    "PULUMI_STATE_CONTAINER",
    "PULUMI_SECRETS_VAULT",
}
TOKEN_SCRIPT = ROOT / ".github" / "actions" / "setup" / "federated-token.sh"

# The job env of every job that runs Pulumi (docs/ci-auth.md): azure-native's OIDC path, which asks GitHub
# for a fresh token itself (pulumi-azure-native provider/pkg/provider/auth_azidentity.go); kubelogin's
# workloadidentity mode, chosen by AAD_LOGIN_METHOD over the kubeconfig's --login azurecli (Azure/kubelogin
# pkg/internal/token/options.go UpdateFromEnv), which does the same (githubactionscredential.go); the
# identity for azidentity's WorkloadIdentityCredential (the Pulumi CLI); state from repository variables. The
# secrets provider depends on the stack the job runs: see secrets_provider_env.
PULUMI_ENV = {
    "ARM_USE_OIDC": "true",
    "ARM_CLIENT_ID": "${{ vars.AZURE_CLIENT_ID }}",
    "ARM_TENANT_ID": "${{ vars.AZURE_TENANT_ID }}",
    "ARM_SUBSCRIPTION_ID": "${{ vars.AZURE_SUBSCRIPTION_ID }}",
    "AAD_LOGIN_METHOD": "workloadidentity",
    "AZURE_CLIENT_ID": "${{ vars.AZURE_CLIENT_ID }}",
    "AZURE_TENANT_ID": "${{ vars.AZURE_TENANT_ID }}",
    "PULUMI_BACKEND_URL": "azblob://${{ vars.PULUMI_STATE_CONTAINER }}?storage_account=${{ vars.PULUMI_STATE_ACCOUNT }}",
}


def secrets_provider_env(stack: str) -> str:
    """The job env PULUMI_SECRETS_PROVIDER of a job running the stack ``stack`` (an expression such as
    ``${{ matrix.stack }}``): that stack's own key, pulumi-<stack>, in the vault of vars.PULUMI_SECRETS_VAULT."""
    return "azurekeyvault://${{ vars.PULUMI_SECRETS_VAULT }}.vault.azure.net/keys/pulumi-" + stack


# Credentials that do not renew (a fixed OIDC token lives 5 minutes), that OIDC replaces (secrets), or that
# lean on an Azure CLI session (AADSTS700024 after ~5 minutes: Azure/azure-cli#28708, #28737).
STATIC_CREDENTIAL_ENV = {
    "ARM_OIDC_TOKEN",
    "ARM_OIDC_TOKEN_FILE_PATH",
    "ARM_CLIENT_SECRET",
    "AZURE_CLIENT_SECRET",
    "ARM_USE_DEFAULT_AZURE_CREDENTIAL",
    "AZURE_KEYVAULT_AUTH_VIA_CLI",
    "AZURE_STORAGE_KEY",
    "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_STORAGE_CONNECTION_STRING",
}
BACKEND_URL = "${{ env.PULUMI_BACKEND_URL }}"
PYTHON_VERSION = "3.11"
KUBELOGIN_VERSION = "v0.2.18"
# The upstream actions the setup action runs, at the versions this repository pins.
SETUP_PINS = {
    "actions/setup-python": "v7",
    "azure/use-kubelogin": "v1.3",
    "pulumi/actions": "v7",
}
# The inputs each of them declares in its action.yml at that version: anything else passed is ignored
# by the runner (a warning at most), so a misspelt input would silently change nothing.
UPSTREAM_INPUTS = {
    "actions/setup-python": {
        "allow-prereleases", "architecture", "cache", "cache-dependency-path", "check-latest", "freethreaded",
        "pip-version", "python-version", "python-version-file", "token", "update-environment",
    },
    "azure/use-kubelogin": {"github-api-base-url", "kubelogin-version", "skip-cache"},
    "pulumi/actions": {
        "always-include-summary", "cloud-url", "color", "command", "comment-on-pr", "comment-on-pr-number",
        "comment-on-summary", "config-map", "continue-on-error", "debug", "diff", "edit-pr-comment", "exclude",
        "exclude-dependents", "exclude-protected", "expect-no-changes", "github-token", "log-flow", "log-verbosity",
        "message", "parallel", "plan", "policyPackConfigs", "policyPacks", "pulumi-version", "pulumi-version-file",
        "refresh", "remove", "replace", "secrets-provider", "stack-name", "suppress-outputs", "suppress-progress",
        "target", "target-dependents", "upsert", "work-dir",
    },
}  # fmt: skip
EXPRESSION = re.compile(r"^\$\{\{\s*(.+?)\s*\}\}$")
PINNED_REF = re.compile(r"^(v\d+(\.\d+){0,2}|[0-9a-f]{40})$")
INPUT_EXPRESSION = re.compile(r"^\$\{\{\s*inputs\.([\w-]+)\s*\}\}$")
INPUT_CONDITION = re.compile(r"^(?:\$\{\{\s*)?inputs\.([\w-]+)\s*==\s*'([^']*)'(?:\s*\}\})?$")
STEP_OUTPUT = re.compile(r"^\$\{\{\s*steps\.([\w-]+)\.outputs\.([\w-]+)\s*\}\}$")
PULUMI_IN_SCRIPT = re.compile(r"(^|[\s;&|(])pulumi\s", re.M)


# --- loading -------------------------------------------------------------------------------------


def workflow_paths() -> list[Path]:
    return sorted([*WORKFLOW_DIR.glob("*.yml"), *WORKFLOW_DIR.glob("*.yaml")])


def parse_workflow(text: str) -> dict:
    doc = yaml.safe_load(text)
    # YAML 1.1 (PyYAML) reads the key `on` as the boolean True.
    if True in doc:
        doc["on"] = doc.pop(True)
    return doc


_loaded: dict[str, dict] = {}


def workflow(name: str) -> dict:
    if name not in _loaded:
        _loaded[name] = parse_workflow((WORKFLOW_DIR / name).read_text())
    return copy.deepcopy(_loaded[name])


def setup_action() -> dict:
    """The composite action .github/actions/setup (a copy: tests may break it)."""
    if SETUP_ACTION not in _loaded:
        _loaded[SETUP_ACTION] = yaml.safe_load(SETUP_ACTION_FILE.read_text())
    return copy.deepcopy(_loaded[SETUP_ACTION])


# --- helpers -------------------------------------------------------------------------------------


def action_of(step: dict) -> str | None:
    """owner/repo[/path] of a `uses:` step, lower-cased; None for a `run:` step."""
    uses = step.get("uses")
    return uses.split("@", 1)[0].lower() if uses else None


def steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def indices(step_list: list[dict], action: str) -> list[int]:
    return [i for i, step in enumerate(step_list) if action_of(step) == action]


def step_index(job: dict, action: str) -> list[int]:
    return indices(steps(job), action)


def commands_in(step_list: list[dict]) -> list[tuple[int, dict]]:
    """The pulumi/actions steps that run a command (without one the action only installs the CLI)."""
    return [
        (i, s) for i, s in enumerate(step_list) if action_of(s) == "pulumi/actions" and s.get("with", {}).get("command")
    ]


def pulumi_commands(job: dict) -> list[tuple[int, dict]]:
    return commands_in(steps(job))


def is_setup(step: dict) -> bool:
    return str(step.get("uses", "")).rstrip("/") == SETUP_ACTION


def input_value(value) -> str:
    """An input as an action receives it: a string (YAML true/false arrive as 'true'/'false')."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def setup_inputs(step: dict, action: dict | None = None) -> dict[str, str]:
    """Every input of the setup action as one `uses:` step gives it: the value passed, else the default."""
    action = action or setup_action()
    given = {name: input_value(value) for name, value in (step.get("with") or {}).items()}
    return {name: given.get(name, input_value(spec.get("default"))) for name, spec in action["inputs"].items()}


def runs_with(condition, inputs: dict[str, str]) -> bool:
    """Whether a step of the action with this `if:` runs; only `inputs.<name> == '<value>'` is understood."""
    if condition is None:
        return True
    match = INPUT_CONDITION.match(str(condition).strip())
    assert match, f"cannot evaluate the condition {condition!r}"
    assert match.group(1) in inputs, f"the condition {condition!r} reads an undeclared input"
    return inputs[match.group(1)] == match.group(2)


def action_steps(step: dict, action: dict | None = None) -> list[dict]:
    """The steps of the setup action that one `uses:` step of it runs, `${{ inputs.x }}` values filled in."""
    action = action or setup_action()
    inputs = setup_inputs(step, action)
    ran = []
    for inner in action["runs"]["steps"]:
        if not runs_with(inner.get("if"), inputs):
            continue
        inner = copy.deepcopy(inner)
        for key in ("with", "env"):
            filled = {}
            for name, value in (inner.get(key) or {}).items():
                match = INPUT_EXPRESSION.match(str(value))
                if match:
                    assert match.group(1) in inputs, f"{name}: {value} reads an undeclared input"
                    value = inputs[match.group(1)]
                filled[name] = value
            if key in inner:
                inner[key] = filled
        if step.get("env"):
            inner["env"] = {**step["env"], **inner.get("env", {})}
        ran.append(inner)
    return ran


def effective_steps(job: dict, action: dict | None = None) -> list[dict]:
    """The steps a job runs: each use of the setup action replaced by the action's steps that run.

    Every step carries `_origin`, the index of the workflow step it comes from.
    """
    result = []
    for i, step in enumerate(steps(job)):
        if is_setup(step):
            result += [{**inner, "_origin": i} for inner in action_steps(step, action)]
        else:
            result.append({**step, "_origin": i})
    return result


def setup_uses(job: dict, action: dict | None = None) -> list[tuple[int, dict[str, str]]]:
    """(index, inputs) of every use of the setup action in a job."""
    return [(i, setup_inputs(s, action)) for i, s in enumerate(steps(job)) if is_setup(s)]


def pulumi_version_of(job: dict, index: int, value, action: dict | None = None) -> str:
    """The Pulumi CLI version that `pulumi-version: <value>` of workflow step ``index`` asks for.

    Either a literal, or the pulumi-version output of an earlier use of the setup action: the version its
    CLI check step holds the installed CLI to, empty when that step does not run.
    """
    match = STEP_OUTPUT.match(str(value or ""))
    if not match:
        return input_value(value)
    step_id, output = match.groups()
    found = [(i, s) for i, s in enumerate(steps(job)) if s.get("id") == step_id]
    assert len(found) == 1, f"no single step with id {step_id!r}"
    i, step = found[0]
    assert i < index, f"step {step_id!r} runs after the step that reads its output"
    assert is_setup(step), f"step {step_id!r} is not the setup action"
    action = action or setup_action()
    assert output in action.get("outputs", {}), f"the setup action has no output {output!r}"
    inner = STEP_OUTPUT.match(str(action["outputs"][output].get("value", "")))
    assert inner, f"the setup action's output {output!r} is not a step output"
    checks = [s for s in action_steps(step, action) if s.get("id") == inner.group(1)]
    return str(checks[0].get("env", {}).get("PULUMI_VERSION", "")) if checks else ""


def permissions(wf: dict, job: dict) -> dict:
    """Effective token permissions of a job: its own block replaces the workflow's entirely."""
    perms = job.get("permissions", wf.get("permissions", {}))
    if isinstance(perms, str):
        level = {"read-all": "read", "write-all": "write"}[perms]
        return {"contents": level, "id-token": level, "pull-requests": level}
    return perms or {}


def step_env(wf: dict, job: dict, step: dict) -> dict:
    return {**wf.get("env", {}), **job.get("env", {}), **step.get("env", {})}


def truthy(value) -> bool:
    return value is True or str(value).lower() == "true"


def find_step(job: dict, pattern: str) -> tuple[int, dict]:
    """The only `run:` step whose script matches ``pattern``."""
    found = [(i, s) for i, s in enumerate(steps(job)) if "run" in s and re.search(pattern, s["run"])]
    assert len(found) == 1, f"expected one run step matching {pattern!r}, found {len(found)}"
    return found[0]


def step_by_id(job: dict, step_id: str) -> dict:
    found = [s for s in steps(job) if s.get("id") == step_id]
    assert len(found) == 1, f"no single step with id {step_id!r}"
    return found[0]


def run_step(
    step: dict,
    context: dict[str, str],
    tmp_path: Path,
    extra_env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> tuple[int, dict[str, str], str]:
    """Run a `run:` step the way a Linux runner does (bash -e), its env expressions taken from ``context``.

    ``extra_env`` stands for what the runner itself provides (GITHUB_SHA, ACTIONS_ID_TOKEN_REQUEST_URL...).
    Returns (exit code, what it wrote to $GITHUB_OUTPUT, stdout + stderr).
    """
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    for key, value in step.get("env", {}).items():
        match = EXPRESSION.match(str(value))
        env[key] = context[match.group(1)] if match else input_value(value)
    env.update(extra_env or {})
    output_file = tmp_path / "github_output"
    output_file.write_text("")
    env["GITHUB_OUTPUT"] = str(output_file)
    # An explicit `shell: bash` runs with pipefail too; the default shell of a workflow step does not.
    options = ["-e", "-o", "pipefail"] if step.get("shell") == "bash" else ["-e"]
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", *options, "-c", step["run"]],
        env=env,
        cwd=cwd or tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return proc.returncode, read_outputs(output_file.read_text()), proc.stdout + proc.stderr


def read_outputs(text: str) -> dict[str, str]:
    """$GITHUB_OUTPUT as the runner reads it: name=value lines and name<<DELIMITER multi-line values."""
    outputs: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        multi = re.fullmatch(r"([\w-]+)<<(\S+)", line)
        if multi:
            body = []
            for following in lines:
                if following == multi.group(2):
                    break
                body.append(following)
            outputs[multi.group(1)] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            outputs[name] = value
    return outputs


def sample_refs(push: dict) -> list[str]:
    """One concrete ref for each branch and tag filter of a push trigger (``*`` becomes a number)."""
    refs = [f"refs/heads/{branch}" for branch in push.get("branches", [])]
    refs += [f"refs/tags/{tag.replace('*', '7')}" for tag in push.get("tags", [])]
    return refs


def map_ref(wf: dict, job_id: str, output: str, ref: str, tmp_path: Path) -> tuple[int, str | None]:
    """Run the step behind ``jobs.<job_id>.outputs.<output>`` for a push of ``ref``."""
    job = wf["jobs"][job_id]
    match = re.fullmatch(r"\$\{\{\s*steps\.([\w-]+)\.outputs\.([\w-]+)\s*\}\}", job["outputs"][output])
    assert match, f"{job_id}.outputs.{output} is not a step output"
    step = step_by_id(job, match.group(1))
    code, outputs, _ = run_step(step, {"github.ref": ref}, tmp_path)
    return code, outputs.get(match.group(2))


def stack_values(wf: dict, job_id: str, expr: str, tmp_path: Path) -> list[str]:
    """Every stack name a `stack-name:` expression can take."""
    match = EXPRESSION.match(str(expr))
    if not match:
        return [str(expr)]
    ref = match.group(1)
    job = wf["jobs"][job_id]
    if ref == "matrix.stack":
        return list(job["strategy"]["matrix"]["stack"])
    if ref in ("inputs.stack", "github.event.inputs.stack"):
        spec = wf["on"]["workflow_dispatch"]["inputs"]["stack"]
        assert spec.get("type") == "choice", "the stack input must be a choice"
        return list(spec["options"])
    needs = re.fullmatch(r"needs\.([\w-]+)\.outputs\.([\w-]+)", ref)
    if needs:
        producer, output = needs.groups()
        assert producer in as_list(job.get("needs")), f"{job_id} reads {producer} without needing it"
        values = []
        for sample in sample_refs(wf["on"]["push"]):
            code, value = map_ref(wf, producer, output, sample, tmp_path)
            assert code == 0 and value, f"{sample} maps to no stack"
            values.append(value)
        return sorted(set(values))
    raise AssertionError(f"cannot tell which stacks {expr!r} names")


def as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def requirement_pin(name: str) -> str:
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        match = re.fullmatch(rf"{re.escape(name)}==(\S+)", line.strip())
        if match:
            return match.group(1)
    raise AssertionError(f"{name} is not pinned in requirements.txt")


# --- generic checks (each returns its problems) --------------------------------------------------


def is_oidc_step(step: dict) -> bool:
    """The setup action's step that gets the first OIDC token and keeps the token file fresh."""
    return "federated-token.sh" in step.get("run", "")


def secrets_checks(job: dict) -> list[tuple[int, dict]]:
    """The steps that run the secrets-provider check script."""
    return [(i, s) for i, s in enumerate(steps(job)) if s.get("run", "").startswith(SECRETS_CHECK)]


def job_stacks(job: dict) -> set[str]:
    """The stacks a job names: the stack-name of its Pulumi commands and the STACK of its secrets checks."""
    named = {str(s.get("with", {}).get("stack-name", "")) for _, s in pulumi_commands(job)}
    return named | {str((s.get("env") or {}).get("STACK", "")) for _, s in secrets_checks(job)}


def expected_stacks(job: dict) -> list[str]:
    """The stacks a Pulumi job must cover: with the preview identity only those it may decrypt (the bootstrap's
    previewStacks, never prod), otherwise all three."""
    return PREVIEW_STACKS if job.get("environment") == PREVIEW_ENVIRONMENT else STACKS


def env_problems(where: str, wf: dict, job: dict) -> list[str]:
    """A job's Azure env: the identity from variables, in the forms that renew themselves, nothing static, and
    the secrets provider of the one stack the job runs (its own key, named by the same expression)."""
    problems = []
    env = {**wf.get("env", {}), **job.get("env", {})}
    for key, expected in PULUMI_ENV.items():
        if str(env.get(key)) != expected:
            problems.append(f"{where}: env {key} is {env.get(key)!r}, not {expected!r}")
    stacks = job_stacks(job)
    if len(stacks) != 1:
        problems.append(f"{where}: names the stacks {sorted(stacks)}, not one whose key the secrets provider names")
    else:
        expected = secrets_provider_env(stacks.pop())
        if str(env.get("PULUMI_SECRETS_PROVIDER")) != expected:
            problems.append(
                f"{where}: env PULUMI_SECRETS_PROVIDER is {env.get('PULUMI_SECRETS_PROVIDER')!r}, not {expected!r}"
            )
    for key in sorted(STATIC_CREDENTIAL_ENV & set(env)):
        problems.append(f"{where}: env {key} is a credential that does not renew itself")
    for key, value in env.items():
        if "secrets." in str(value):
            problems.append(f"{where}: env {key} comes from a secret")
    return problems


def azure_access_problems(wf: dict, action: dict | None = None) -> list[str]:
    """Azure access only by OIDC that renews itself: no azure/login (its CLI session cannot renew), no `az`
    in scripts, and every job that prepares OIDC may request tokens and names its identity by variables."""
    problems = []
    for job_id, job in wf["jobs"].items():
        where = f"job {job_id}"
        eff = effective_steps(job, action)
        if indices(eff, "azure/login"):
            problems.append(f"{where}: azure/login (an Azure CLI session that cannot renew its assertion)")
        for step in eff:
            if re.search(r"(^|[;&|(])\s*az\s", step.get("run", ""), re.M):
                problems.append(f"{where} step {step['_origin']}: runs the Azure CLI")
        if any(is_oidc_step(s) for s in eff):
            if permissions(wf, job).get("id-token") != "write":
                problems.append(f"{where}: OIDC without the id-token: write permission")
            problems += env_problems(where, wf, job)
    return problems


def pulumi_job_problems(wf: dict, tmp_path: Path, action: dict | None = None) -> tuple[int, list[str]]:
    """Every job running pulumi/actions: OIDC login with variables, kubelogin, deps, policy pack, stacks.

    The job's uses of the setup action count as the steps of the action they run.
    Returns (number of Pulumi commands checked, problems).
    """
    problems: list[str] = []
    checked = 0
    cli_version = requirement_pin("pulumi")
    for job_id, job in wf["jobs"].items():
        where = f"job {job_id}"
        try:
            eff = effective_steps(job, action)
        except (AssertionError, KeyError) as err:
            problems.append(f"{where}: {err}")
            continue
        if not indices(eff, "pulumi/actions"):
            continue
        if permissions(wf, job).get("id-token") != "write":
            problems.append(f"{where}: no id-token: write permission")
        logins = [i for i, s in enumerate(eff) if is_oidc_step(s)]
        if not logins:
            problems.append(f"{where}: the setup action's OIDC token file is not kept fresh")
        if indices(eff, "azure/login"):
            problems.append(f"{where}: azure/login (an Azure CLI session that cannot renew its assertion)")
        problems += env_problems(where, wf, job)
        checks = [i for i, s in enumerate(eff) if s.get("run", "").startswith(SECRETS_CHECK)]
        setup_dirs = {inputs["working-directory"] for _, inputs in setup_uses(job, action)}
        kubelogin = indices(eff, "azure/use-kubelogin")
        for i in kubelogin:
            version = str(eff[i].get("with", {}).get("kubelogin-version", ""))
            if not re.fullmatch(r"v\d+\.\d+\.\d+", version):
                problems.append(f"{where}: kubelogin-version {version!r} is not a pinned release")
        deps = [
            i
            for i, s in enumerate(eff)
            if re.search(r"venv/bin/python -m pip install .*-r requirements\.txt -c constraints\.txt", s.get("run", ""))
        ]
        installs = [
            s.get("with", {}) for s in eff if action_of(s) == "pulumi/actions" and not s.get("with", {}).get("command")
        ]
        for given in installs:
            if str(given.get("pulumi-version")) != cli_version:
                problems.append(
                    f"{where}: the Pulumi CLI installed is {given.get('pulumi-version')!r}, not the SDK's {cli_version}"
                )
        for i, step in commands_in(eff):
            checked += 1
            given = step.get("with", {})
            here = f"{where} step {step['_origin']} (pulumi {given.get('command')})"
            if not logins or min(logins) > i:
                problems.append(f"{here}: runs before the OIDC token file exists")
            if not checks or min(checks) > i:
                problems.append(f"{here}: the stack's secrets provider is not checked before it")
            work_dir = str(given.get("work-dir", ".")).strip("/") or "."
            if setup_dirs != {work_dir}:
                problems.append(f"{here}: work-dir {work_dir!r}, but the dependencies went to {sorted(setup_dirs)}")
            if not kubelogin or min(kubelogin) > i:
                problems.append(f"{here}: kubelogin is not installed before it")
            if not deps or min(deps) > i:
                problems.append(f"{here}: the program's dependencies are not installed into ./venv before it")
            if given.get("policyPacks") != "policy":
                problems.append(f"{here}: policyPacks is {given.get('policyPacks')!r}, not 'policy'")
            if given.get("cloud-url") != BACKEND_URL:
                problems.append(f"{here}: cloud-url is {given.get('cloud-url')!r}, not {BACKEND_URL}")
            try:
                version = pulumi_version_of(job, step["_origin"], given.get("pulumi-version"), action)
            except (AssertionError, KeyError) as err:
                version = f"unresolved ({err})"
            if version != cli_version:
                problems.append(f"{here}: pulumi-version {version!r} is not the SDK's {cli_version}")
            env = step_env(wf, job, step)
            for key in sorted(STATIC_CREDENTIAL_ENV & set(env)):
                problems.append(f"{here}: env {key} is a credential that does not renew itself")
            try:
                stacks = stack_values(wf, job_id, given.get("stack-name", ""), tmp_path)
            except (AssertionError, KeyError) as err:
                problems.append(f"{here}: stack-name: {err}")
                continue
            expected = expected_stacks(job)
            if sorted(stacks) != sorted(expected) or len(stacks) != len(expected):
                problems.append(f"{here}: stacks {stacks}, not exactly {expected}")
        work_dirs = {str(s.get("with", {}).get("work-dir", ".")).strip("/") or "." for _, s in pulumi_commands(job)}
        for i, check in secrets_checks(job):
            # The stack of the step's env (the one the job runs, see env_problems) and the previewed folder.
            match = re.fullmatch(rf'{re.escape(SECRETS_CHECK)} "\$STACK"(?: (\S+))?\s*', check["run"])
            if not match:
                problems.append(
                    f'{where} step {i}: the secrets-provider check does not take "$STACK": {check["run"]!r}'
                )
            elif work_dirs != {(match.group(1) or ".").strip("/") or "."}:
                problems.append(f"{where} step {i}: the secrets-provider check reads another folder than {work_dirs}")
    if "AZURE_CREDENTIALS" in str(wf) or "AZURE_CREDENTIALS" in str(action or setup_action()):
        problems.append("the workflow or the setup action refers to AZURE_CREDENTIALS")
    return checked, problems


def setup_needed_problems(wf: dict, action: dict | None = None) -> list[str]:
    """Jobs that run Pulumi or the Python tooling get it from the setup action, set up before they need it.

    A pulumi/actions step needs the CLI, the Azure session and the program's ./venv; `pulumi` in a script
    needs the CLI and the Azure session (the state is in Azure); bin/test and bin/plan need the
    development dependencies.
    """
    problems = []
    for job_id, job in wf["jobs"].items():
        uses = setup_uses(job, action)

        def provided(name: str, value: str, before: int, uses=uses) -> bool:
            return any(j < before and inputs.get(name) == value for j, inputs in uses)

        for i, step in enumerate(steps(job)):
            where = f"job {job_id} step {i}"
            needs = []
            if action_of(step) == "pulumi/actions" and step.get("with", {}).get("command"):
                needs = [("pulumi-cli", "true"), ("azure-oidc", "true"), ("python-deps", "program")]
            elif PULUMI_IN_SCRIPT.search(step.get("run", "")) or step.get("run", "").startswith(SECRETS_CHECK):
                needs = [("pulumi-cli", "true"), ("azure-oidc", "true")]
            elif re.search(r"(^|\s)bin/(test|plan)\b", step.get("run", ""), re.M):
                needs = [("python-deps", "dev")]
            for name, value in needs:
                if not provided(name, value, i):
                    problems.append(f"{where}: needs {SETUP_ACTION} with {name}: {value} before it")
    return problems


def repeated_setup_problems(wf: dict) -> list[str]:
    """Workflow steps that do what the setup action is for, instead of using it."""
    shared = {"actions/setup-python", "azure/login", "azure/use-kubelogin"}
    scripts = {
        r"\bpython3? -m venv\b": "creates a virtualenv",
        r"\bpip3? install\b|-m pip install\b": "installs Python packages",
        r"bin/_venv\.sh": "installs the development dependencies",
        r"GITHUB_PATH": "changes PATH",
    }
    problems = []
    for job_id, job in wf["jobs"].items():
        for i, step in enumerate(steps(job)):
            where = f"job {job_id} step {i}"
            action = action_of(step)
            if action in shared:
                problems.append(f"{where}: uses {action} itself")
            if action == "pulumi/actions" and not step.get("with", {}).get("command"):
                problems.append(f"{where}: installs the Pulumi CLI itself")
            for pattern, what in scripts.items():
                if re.search(pattern, step.get("run", "")):
                    problems.append(f"{where}: {what}")
    return problems


def setup_input_problems(wf: dict, action: dict | None = None) -> list[str]:
    """Uses of local actions: only the setup action, after a checkout, with declared inputs and the required ones."""
    action = action or setup_action()
    declared = action.get("inputs", {})
    required = sorted(name for name, spec in declared.items() if truthy(spec.get("required")))
    problems = []
    for job_id, job in wf["jobs"].items():
        checkouts = step_index(job, "actions/checkout")
        for i, step in enumerate(steps(job)):
            uses = str(step.get("uses", ""))
            if not uses.startswith("./"):
                continue
            where = f"job {job_id} step {i}"
            if not is_setup(step):
                problems.append(f"{where}: {uses} is not {SETUP_ACTION}")
                continue
            if not checkouts or min(checkouts) > i:
                problems.append(f"{where}: {SETUP_ACTION} before actions/checkout (it is read from the workspace)")
            given = step.get("with") or {}
            problems += [
                f"{where}: passes {name}, which the action does not declare" for name in given if name not in declared
            ]
            problems += [
                f"{where}: does not pass the required {name}" for name in required if input_value(given.get(name)) == ""
            ]
    return problems


def setup_action_problems(action: dict) -> list[str]:
    """The setup action itself: composite, documented inputs, bash `run:` steps reading inputs through env only,
    pinned upstream actions given only the inputs they declare."""
    problems = []
    if action.get("runs", {}).get("using") != "composite":
        problems.append("runs.using is not composite")
    inputs = action.get("inputs", {})
    for name, spec in inputs.items():
        if not str((spec or {}).get("description", "")).strip():
            problems.append(f"input {name} has no description")
    for name, spec in action.get("outputs", {}).items():
        if not str((spec or {}).get("description", "")).strip():
            problems.append(f"output {name} has no description")
    for name in sorted(set(re.findall(r"(?<![\w.-])inputs\.([\w-]+)", yaml.safe_dump(action, width=1000)))):
        if name not in inputs:
            problems.append(f"inputs.{name} is read but not declared")
    for i, step in enumerate(action.get("runs", {}).get("steps", [])):
        where = f"step {i} ({step.get('name') or step.get('uses')})"
        if "run" in step:
            if step.get("shell") != "bash":
                problems.append(f"{where}: shell is {step.get('shell')!r}, not bash")
            if "${{" in step["run"]:
                problems.append(f"{where}: ${{{{ }}}} inside the script; values reach it through env")
    problems += undeclared_upstream_inputs(action.get("runs", {}).get("steps", []))
    problems += unpinned_actions({"jobs": {"setup": action.get("runs", {})}})
    return problems


def undeclared_upstream_inputs(step_list: list[dict]) -> list[str]:
    """Inputs given to actions/setup-python, azure/login, azure/use-kubelogin or pulumi/actions that they
    do not declare at the version pinned."""
    problems = []
    for i, step in enumerate(step_list):
        name = action_of(step)
        unknown = sorted(set(step.get("with") or {}) - UPSTREAM_INPUTS.get(name, set()))
        if name in UPSTREAM_INPUTS and unknown:
            problems.append(f"step {i}: {name} declares no input {', '.join(unknown)}")
    return problems


def unpinned_actions(wf: dict) -> list[str]:
    """`uses:` references that are not pinned to a version tag (vN, vN.N, vN.N.N) or a full commit SHA."""
    problems = []
    for job_id, job in wf["jobs"].items():
        uses = [job["uses"]] if "uses" in job else []
        uses += [s["uses"] for s in steps(job) if "uses" in s]
        for ref in uses:
            if ref.startswith(("./", "docker://")):
                continue
            name, _, version = ref.partition("@")
            if not re.fullmatch(r"[\w.-]+/[\w.-]+(/[\w./-]+)?", name) or not PINNED_REF.match(version):
                problems.append(f"job {job_id}: {ref}")
    return problems


def interpolating_run_steps(wf: dict) -> list[str]:
    """`run:` scripts with ${{ }} inside: values reach scripts through env only (no script injection)."""
    return [
        f"job {job_id} step {i}"
        for job_id, job in wf["jobs"].items()
        for i, step in enumerate(steps(job))
        if "${{" in step.get("run", "")
    ]


# --- all workflows -------------------------------------------------------------------------------


def test_the_workflows_are_there():
    assert {p.name for p in workflow_paths()} >= EXPECTED_WORKFLOWS


def _check_jsonschema(files: list[Path], schema: str = "vendor.github-workflows") -> subprocess.CompletedProcess:
    # A proxy that refuses every connection: the vendored schema must be enough (offline CI).
    dead = "http://127.0.0.1:9"
    env = {**os.environ, "HTTP_PROXY": dead, "HTTPS_PROXY": dead, "http_proxy": dead, "https_proxy": dead}
    env.pop("NO_PROXY", None)
    env.pop("no_proxy", None)
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, files)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_workflows_match_the_github_workflow_schema():
    proc = _check_jsonschema(workflow_paths())
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  build:\n    steps:\n      - run: echo no runner\n        uses: x/y@v1\n")
    proc = _check_jsonschema([broken])
    assert proc.returncode != 0, proc.stdout


@pytest.mark.parametrize("name", sorted(EXPECTED_WORKFLOWS))
def test_actions_are_pinned(name):
    assert unpinned_actions(workflow(name)) == []


@pytest.mark.parametrize(
    ("ref", "pinned"),
    [
        ("actions/checkout@v7", True),
        ("azure/use-kubelogin@v1.3", True),
        ("actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1", True),
        ("./.github/actions/setup", True),
        ("actions/checkout@main", False),
        ("pulumi/actions@master", False),
        ("pulumi/actions", False),
        ("pulumi/actions@latest", False),
        ("actions/checkout@3d3c42e", False),
    ],
)
def test_the_pin_check(ref, pinned):
    wf = {"jobs": {"j": {"steps": [{"uses": ref}]}}}
    assert (unpinned_actions(wf) == []) is pinned


@pytest.mark.parametrize("name", sorted(EXPECTED_WORKFLOWS))
def test_run_scripts_take_expressions_through_env(name):
    assert interpolating_run_steps(workflow(name)) == []


def test_the_interpolation_check():
    wf = {"jobs": {"j": {"steps": [{"run": 'echo "${{ github.event.pull_request.title }}"'}]}}}
    assert interpolating_run_steps(wf) == ["job j step 0"]


def test_the_workflows_read_exactly_the_documented_variables():
    """The variables a repository or environment must define (docs/ci-auth.md lists them)."""
    texts = [path.read_text() for path in workflow_paths()] + [SETUP_ACTION_FILE.read_text()]
    assert {name for text in texts for name in re.findall(r"\bvars\.(\w+)", text)} == VARIABLES
    ci_auth = (ROOT / "docs" / "ci-auth.md").read_text()
    assert [name for name in sorted(VARIABLES) if f"`{name}`" not in ci_auth] == []


def test_no_single_secrets_key_is_left():
    """One key per stack: nothing names a variable for one key of every stack any more."""
    files = [p for p in (ROOT / ".github").rglob("*") if p.is_file()]
    files += [*(ROOT / "docs").glob("*.md"), ROOT / "README.md"]
    assert [str(p.relative_to(ROOT)) for p in files if "PULUMI_SECRETS_KEY" in p.read_text()] == []


@pytest.mark.parametrize(("name", "commands"), [("cloud-preview.yml", 1), ("deploy.yml", 1), ("traffic-switch.yml", 1)])
def test_pulumi_jobs_use_oidc_the_policy_pack_and_their_stacks(name, commands, tmp_path):
    checked, problems = pulumi_job_problems(workflow(name), tmp_path)
    assert problems == []
    assert checked == commands


ONE_KEY_FOR_EVERY_STACK = (
    "azurekeyvault://${{ vars.PULUMI_SECRETS_VAULT }}.vault.azure.net/keys/${{ vars.PULUMI_SECRETS_KEY }}"
)


@pytest.mark.parametrize(
    ("name", "job_id"), [("cloud-preview.yml", "preview"), ("deploy.yml", "deploy"), ("traffic-switch.yml", "switch")]
)
def test_the_pulumi_job_check_catches_one_key_for_every_stack(name, job_id, tmp_path):
    wf = workflow(name)
    wf["jobs"][job_id]["env"]["PULUMI_SECRETS_PROVIDER"] = ONE_KEY_FOR_EVERY_STACK
    _, problems = pulumi_job_problems(wf, tmp_path)
    assert any("PULUMI_SECRETS_PROVIDER" in problem for problem in problems), problems
    assert any("PULUMI_SECRETS_PROVIDER" in problem for problem in azure_access_problems(wf))


def evaluate(value: str, context: dict[str, str]) -> str:
    """A value with ${{ }} expressions, filled in from ``context`` (an unknown expression is a KeyError)."""
    return re.sub(r"\$\{\{\s*(.+?)\s*\}\}", lambda match: context[match.group(1)], value)


@pytest.mark.parametrize(
    ("name", "job_id"), [("cloud-preview.yml", "preview"), ("deploy.yml", "deploy"), ("traffic-switch.yml", "switch")]
)
def test_every_stack_a_job_runs_is_checked_against_its_own_key(name, job_id, tmp_path):
    """For each stack the job runs, its PULUMI_SECRETS_PROVIDER is the bootstrap's key of that stack, and its
    secrets-provider check passes on the repository's stack files; given another stack's key it fails."""
    wf = workflow(name)
    job = wf["jobs"][job_id]
    [(_, command)] = pulumi_commands(job)
    expression = command["with"]["stack-name"]
    stack_ref = EXPRESSION.match(expression).group(1)
    [(_, check)] = secrets_checks(job)
    folder = (re.fullmatch(rf'{re.escape(SECRETS_CHECK)} "\$STACK"(?: (\S+))?', check["run"].strip()).group(1)) or "."
    workspace = tmp_path / "workspace"
    (workspace / folder).mkdir(parents=True)
    (workspace / SECRETS_CHECK).parent.mkdir(parents=True)
    shutil.copy(ROOT / SECRETS_CHECK, workspace / SECRETS_CHECK)
    for stack_file in ROOT.glob("Pulumi.*.yaml"):
        shutil.copy(stack_file, workspace / folder / stack_file.name)
    # Every stack file names its provider: the state is never read here.
    fake = tmp_path / "fakebin"
    fake.mkdir()
    (fake / "pulumi").write_text("#!/usr/bin/env bash\necho 'pulumi called' >&2\nexit 1\n")
    (fake / "pulumi").chmod(0o755)
    path = f"{fake}:{os.environ.get('PATH', '')}"
    stacks = stack_values(wf, job_id, expression, tmp_path)
    assert stacks
    for stack in stacks:
        provider = evaluate(
            job["env"]["PULUMI_SECRETS_PROVIDER"], {"vars.PULUMI_SECRETS_VAULT": VAULT, stack_ref: stack}
        )
        assert provider == secrets_provider(VAULT, stack)
        for key_of in STACKS:
            given = secrets_provider(VAULT, key_of)
            code, _, log = run_step(
                check, {stack_ref: stack}, tmp_path, {"PATH": path, "PULUMI_SECRETS_PROVIDER": given}, workspace
            )
            assert (code == 0) is (key_of == stack), f"{stack} checked against the key of {key_of}: {log}"


def test_the_workflows_that_run_pulumi_are_the_cloud_ones(tmp_path):
    running = {name for name in EXPECTED_WORKFLOWS if pulumi_job_problems(workflow(name), tmp_path)[0]}
    assert running == {"cloud-preview.yml", "deploy.yml", "traffic-switch.yml"}


def _setup_step(wf, job_id="preview"):
    [i] = [i for i, s in enumerate(steps(wf["jobs"][job_id])) if is_setup(s)]
    return steps(wf["jobs"][job_id])[i]


def _action_step(action, name):
    [step] = [s for s in action["runs"]["steps"] if action_of(s) == name]
    return step


def _oidc_step(action):
    [step] = [s for s in action["runs"]["steps"] if is_oidc_step(s)]
    return step


def _drop_id_token(wf, action):
    wf["jobs"]["preview"]["permissions"].pop("id-token")


def _secret_client_id(wf, action):
    wf["jobs"]["preview"]["env"]["ARM_CLIENT_ID"] = "${{ secrets.AZURE_CLIENT_ID }}"


def _stored_credentials(wf, action):
    wf["jobs"]["preview"]["env"]["ARM_CLIENT_SECRET"] = "${{ secrets.AZURE_CLIENT_SECRET }}"


def _fixed_oidc_token(wf, action):
    pulumi_commands(wf["jobs"]["preview"])[0][1]["env"] = {"ARM_OIDC_TOKEN": "${{ steps.token.outputs.token }}"}


def _keyvault_via_cli(wf, action):
    wf["jobs"]["preview"]["env"]["AZURE_KEYVAULT_AUTH_VIA_CLI"] = "true"


def _azure_cli_login(wf, action):
    action["runs"]["steps"].insert(3, {"uses": "azure/login@v3", "with": {"client-id": "x"}})


def _no_policy_pack(wf, action):
    pulumi_commands(wf["jobs"]["preview"])[0][1]["with"].pop("policyPacks")


def _extra_stack(wf, action):
    wf["jobs"]["preview"]["strategy"]["matrix"]["stack"].append("qa")


def _no_oidc_env(wf, action):
    wf["jobs"]["preview"]["env"].pop("ARM_USE_OIDC")


def _kubelogin_via_azure_cli(wf, action):
    wf["jobs"]["preview"]["env"]["AAD_LOGIN_METHOD"] = "azurecli"


def _kubelogin_mode_unset(wf, action):
    wf["jobs"]["preview"]["env"].pop("AAD_LOGIN_METHOD")


def _no_workload_identity_client(wf, action):
    wf["jobs"]["preview"]["env"].pop("AZURE_CLIENT_ID")


def _hard_coded_backend(wf, action):
    wf["jobs"]["preview"]["env"]["PULUMI_BACKEND_URL"] = "azblob://pulumi-state?storage_account=broxivastate"


def _backend_in_the_step(wf, action):
    pulumi_commands(wf["jobs"]["preview"])[0][1]["with"]["cloud-url"] = "azblob://pulumi-state"


def _hard_coded_vault(wf, action):
    wf["jobs"]["preview"]["env"]["PULUMI_SECRETS_PROVIDER"] = (
        "azurekeyvault://broxiva-pulumi-kv.vault.azure.net/keys/pulumi-${{ matrix.stack }}"
    )


def _one_key_for_every_stack(wf, action):
    wf["jobs"]["preview"]["env"]["PULUMI_SECRETS_PROVIDER"] = (
        "azurekeyvault://${{ vars.PULUMI_SECRETS_VAULT }}.vault.azure.net/keys/${{ vars.PULUMI_SECRETS_KEY }}"
    )


def _key_of_one_stack(wf, action):
    wf["jobs"]["preview"]["env"]["PULUMI_SECRETS_PROVIDER"] = secrets_provider_env("staging")


def _key_of_another_expression(wf, action):
    wf["jobs"]["preview"]["env"]["PULUMI_SECRETS_PROVIDER"] = secrets_provider_env("${{ inputs.stack }}")


def _check_of_another_stack(wf, action):
    secrets_checks(wf["jobs"]["preview"])[0][1]["env"]["STACK"] = "staging"


def _check_of_a_literal_stack(wf, action):
    secrets_checks(wf["jobs"]["preview"])[0][1]["run"] = f"{SECRETS_CHECK} staging pr"


def _check_of_another_folder(wf, action):
    secrets_checks(wf["jobs"]["preview"])[0][1]["run"] = f'{SECRETS_CHECK} "$STACK"'


def _previews_prod(wf, action):
    wf["jobs"]["preview"]["strategy"]["matrix"]["stack"].append("prod")


def _previews_only_dev(wf, action):
    wf["jobs"]["preview"]["strategy"]["matrix"]["stack"] = ["dev"]


def _no_secrets_provider_check(wf, action):
    job = wf["jobs"]["preview"]
    job["steps"] = [s for s in steps(job) if not s.get("run", "").startswith(SECRETS_CHECK)]


def _previewing_another_folder(wf, action):
    pulumi_commands(wf["jobs"]["preview"])[0][1]["with"]["work-dir"] = "."


def _no_kubelogin(wf, action):
    _setup_step(wf)["with"]["kubelogin"] = False


def _kubelogin_never_runs(wf, action):
    _action_step(action, "azure/use-kubelogin")["if"] = "inputs.kubelogin == 'always'"


def _latest_kubelogin(wf, action):
    _setup_step(wf)["with"]["kubelogin-version"] = "latest"


def _login_after_pulumi(wf, action):
    job = wf["jobs"]["preview"]
    setup = job["steps"].pop(step_index(job, SETUP_ACTION)[0])
    job["steps"].append(setup)


def _no_azure_oidc(wf, action):
    _setup_step(wf)["with"]["azure-oidc"] = False


def _token_file_never_kept(wf, action):
    _oidc_step(action)["if"] = "inputs.azure-oidc == 'yes'"


def _no_program_deps(wf, action):
    _setup_step(wf)["with"]["python-deps"] = "dev"


def _no_cli(wf, action):
    _setup_step(wf)["with"]["pulumi-cli"] = False


def _other_cli_version(wf, action):
    _setup_step(wf)["with"]["pulumi-version"] = "3.200.0"


def _other_cli_default(wf, action):
    action["inputs"]["pulumi-version"]["default"] = "3.200.0"


def _literal_cli_version(wf, action):
    pulumi_commands(wf["jobs"]["preview"])[0][1]["with"]["pulumi-version"] = "3.200.0"


def _version_of_another_step(wf, action):
    pulumi_commands(wf["jobs"]["preview"])[0][1]["with"]["pulumi-version"] = "${{ steps.plan.outputs.pulumi-version }}"


@pytest.mark.parametrize(
    "breakage",
    [
        _drop_id_token,
        _secret_client_id,
        _stored_credentials,
        _fixed_oidc_token,
        _keyvault_via_cli,
        _azure_cli_login,
        _no_policy_pack,
        _extra_stack,
        _no_oidc_env,
        _kubelogin_via_azure_cli,
        _kubelogin_mode_unset,
        _no_workload_identity_client,
        _hard_coded_backend,
        _backend_in_the_step,
        _hard_coded_vault,
        _one_key_for_every_stack,
        _key_of_one_stack,
        _key_of_another_expression,
        _check_of_another_stack,
        _check_of_a_literal_stack,
        _check_of_another_folder,
        _previews_prod,
        _previews_only_dev,
        _no_secrets_provider_check,
        _previewing_another_folder,
        _no_kubelogin,
        _kubelogin_never_runs,
        _latest_kubelogin,
        _login_after_pulumi,
        _no_azure_oidc,
        _token_file_never_kept,
        _no_program_deps,
        _no_cli,
        _other_cli_version,
        _other_cli_default,
        _literal_cli_version,
        _version_of_another_step,
    ],
)
def test_the_pulumi_job_check_catches(breakage, tmp_path):
    wf, action = workflow("cloud-preview.yml"), setup_action()
    breakage(wf, action)
    _, problems = pulumi_job_problems(wf, tmp_path, action)
    assert problems


@pytest.mark.parametrize("name", sorted(EXPECTED_WORKFLOWS))
def test_azure_is_reached_only_by_oidc_that_renews_itself(name):
    assert azure_access_problems(workflow(name)) == []


def test_the_azure_access_check_catches_a_job_without_id_token():
    wf = workflow("deploy.yml")
    wf["jobs"]["deploy"]["permissions"] = {"contents": "read"}
    assert azure_access_problems(wf)


def test_the_azure_access_check_follows_the_setup_action():
    wf = workflow("preview.yml")
    _setup_step(wf, "offline-plan")["with"]["azure-oidc"] = True
    assert any("offline-plan" in p and "id-token" in p for p in azure_access_problems(wf))


@pytest.mark.parametrize(
    "breakage",
    [
        lambda job: job["steps"].insert(1, {"uses": "azure/login@v3", "with": {"client-id": "x"}}),
        lambda job: job["steps"].insert(1, {"run": "az account get-access-token --resource https://vault.azure.net"}),
        lambda job: job["env"].update(AZURE_KEYVAULT_AUTH_VIA_CLI="true"),
        lambda job: job["env"].update(AAD_LOGIN_METHOD="azurecli"),
    ],
)
def test_the_azure_access_check_catches_an_azure_cli_session(breakage):
    wf = workflow("deploy.yml")
    breakage(wf["jobs"]["deploy"])
    assert azure_access_problems(wf)


# --- the setup action ----------------------------------------------------------------------------


def test_the_setup_action_matches_the_github_action_schema():
    proc = _check_jsonschema([SETUP_ACTION_FILE], "vendor.github-actions")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_action_schema_check_rejects_a_broken_action(tmp_path):
    broken = tmp_path / "action.yml"
    # A composite `run:` step without `shell:` fails on GitHub; the action schema says so too.
    broken.write_text("name: x\ndescription: y\nruns:\n  using: composite\n  steps:\n    - run: echo no shell\n")
    proc = _check_jsonschema([broken], "vendor.github-actions")
    assert proc.returncode != 0, proc.stdout


def test_the_setup_action_is_documented_composite_and_takes_inputs_through_env():
    assert setup_action_problems(setup_action()) == []


def _first_run_step(action):
    return next(s for s in action["runs"]["steps"] if "run" in s)


def _interpolated_input(action):
    _first_run_step(action)["run"] += '\necho "${{ inputs.python-deps }}"'


def _no_shell(action):
    _first_run_step(action).pop("shell")


def _sh_shell(action):
    _first_run_step(action)["shell"] = "sh"


def _undocumented_input(action):
    action["inputs"]["kubelogin"]["description"] = " "


def _undocumented_output(action):
    action["outputs"]["pulumi-version"].pop("description")


def _undeclared_input(action):
    action["runs"]["steps"][0]["env"]["EXTRA"] = "${{ inputs.extra }}"


def _unknown_upstream_input(action):
    _action_step(action, "azure/use-kubelogin")["with"]["kubelogin_version"] = "v0.2.18"


def _unpinned_upstream(action):
    _action_step(action, "azure/use-kubelogin")["uses"] = "azure/use-kubelogin@main"


def _not_composite(action):
    action["runs"]["using"] = "node24"


@pytest.mark.parametrize(
    "breakage",
    [
        _interpolated_input,
        _no_shell,
        _sh_shell,
        _undocumented_input,
        _undocumented_output,
        _undeclared_input,
        _unknown_upstream_input,
        _unpinned_upstream,
        _not_composite,
    ],
)
def test_the_setup_action_check_catches(breakage):
    action = setup_action()
    breakage(action)
    assert setup_action_problems(action)


def test_the_setup_action_runs_the_upstream_actions_at_their_pinned_versions():
    action = setup_action()
    used = {action_of(s): s["uses"].split("@", 1)[1] for s in action["runs"]["steps"] if "uses" in s}
    assert used == SETUP_PINS
    assert str(action["inputs"]["python-version"]["default"]) == PYTHON_VERSION
    assert action["inputs"]["kubelogin-version"]["default"] == KUBELOGIN_VERSION
    assert str(action["inputs"]["pulumi-version"]["default"]) == requirement_pin("pulumi")


def test_the_setup_action_cites_the_upstream_definitions_of_the_inputs_it_passes():
    text = SETUP_ACTION_FILE.read_text().lower()
    for name, version in SETUP_PINS.items():
        assert f"https://github.com/{name}/blob/{version}/action.yml" in text, name


def test_the_program_dependencies_include_the_policy_pack_and_come_first_on_path():
    [deps] = [s for s in action_steps({"with": {"python-deps": "program"}}) if "run" in s and s.get("id") != "check"]
    assert re.search(r"^python -m venv venv$", deps["run"], re.M)
    assert "-r requirements.txt -c constraints.txt" in deps["run"]
    assert "-r policy/requirements.txt -c constraints.txt" in deps["run"]
    assert 'echo "$PWD/venv/bin" >> "$GITHUB_PATH"' in deps["run"]


@pytest.mark.parametrize(
    ("deps", "expected"),
    [
        ("program", [r"python -m venv venv"]),
        # The test dependencies, and promtool for the Prometheus rule tests.
        ("dev", [r"^bash bin/_venv\.sh$", r"^bash bin/install-promtool$"]),
        ("none", []),
    ],
)
def test_python_deps_selects_what_is_installed(deps, expected):
    ran = action_steps({"with": {"python-deps": deps}})
    scripts = [s["run"] for s in ran if "run" in s and s.get("id") != "check"]
    assert len(scripts) == len(expected)
    for script, pattern in zip(scripts, expected, strict=True):
        assert re.search(pattern, script, re.M), script
    assert indices(ran, "actions/setup-python"), "Python is set up in every case"
    assert not {"azure/login", "azure/use-kubelogin", "pulumi/actions"} & {action_of(s) for s in ran}


# The job env of a job that runs Pulumi, with values (what the runner gives the composite action's steps).
JOB_ENV = {
    "ARM_USE_OIDC": "true",
    "ARM_CLIENT_ID": "00000000-0000-0000-0000-00000000000c",
    "ARM_TENANT_ID": "00000000-0000-0000-0000-00000000000t",
    "ARM_SUBSCRIPTION_ID": "00000000-0000-0000-0000-00000000000s",
    "AAD_LOGIN_METHOD": "workloadidentity",
    "AZURE_CLIENT_ID": "00000000-0000-0000-0000-00000000000c",
    "AZURE_TENANT_ID": "00000000-0000-0000-0000-00000000000t",
}


def _check_inputs(
    given: dict, tmp_path: Path, oidc: bool = True, env: dict[str, str] | None = None
) -> tuple[int, dict[str, str], str]:
    """Run the action's input check as a use of it passing ``given`` would, in a job with ``env``."""
    [check] = [s for s in setup_action()["runs"]["steps"] if s.get("id") == "check"]
    context = {f"inputs.{name}": value for name, value in setup_inputs({"with": given}).items()}
    extra = dict(JOB_ENV if env is None else env)
    if oidc:
        extra["ACTIONS_ID_TOKEN_REQUEST_URL"] = "https://token.invalid/"
    return run_step(check, context, tmp_path, extra)


FULL = {"python-deps": "program", "azure-oidc": True, "kubelogin": True, "pulumi-cli": True}


@pytest.mark.parametrize(
    ("given", "oidc", "cache"),
    [
        ({"python-deps": "program"}, True, ["requirements.txt", "constraints.txt"]),
        ({"python-deps": "program", "working-directory": "./"}, True, ["requirements.txt", "constraints.txt"]),
        ({"python-deps": "program", "working-directory": "pr"}, True, ["pr/requirements.txt", "pr/constraints.txt"]),
        ({"python-deps": "dev"}, True, ["requirements.txt", "requirements-dev.txt", "constraints.txt"]),
        ({"python-deps": "none"}, True, []),
        (FULL, True, ["requirements.txt", "constraints.txt"]),
        ({"python-deps": "none", "pulumi-cli": "true", "pulumi-version": "3.272.0"}, False, []),
        ({}, True, None),
        ({"python-deps": "all"}, True, None),
        ({"python-deps": "program", "working-directory": "../elsewhere"}, True, None),
        ({"python-deps": "program", "working-directory": "/tmp"}, True, None),
        ({"python-deps": "program", "working-directory": "pr/../.."}, True, None),
        ({"python-deps": "program", "azure-oidc": "yes"}, True, None),
        (FULL, False, None),
        ({"python-deps": "none", "kubelogin": True, "kubelogin-version": "latest"}, True, None),
        ({"python-deps": "none", "kubelogin": "True"}, True, None),
        ({"python-deps": "none", "pulumi-cli": True, "pulumi-version": "^3"}, True, None),
        ({"python-deps": "none", "pulumi-cli": True, "pulumi-version": "v3.272.0"}, True, None),
    ],
)
def test_the_setup_action_refuses_unexpected_inputs(given, oidc, cache, tmp_path):
    code, outputs, log = _check_inputs(given, tmp_path, oidc)
    if cache is None:
        assert code != 0, log
        assert "::error::" in log
    else:
        assert code == 0, log
        assert outputs["cache"] == ("pip" if cache else "")
        assert outputs["cache-dependency-path"].split() == cache
        assert all((ROOT / path).is_file() for path in cache if not path.startswith("pr/"))


@pytest.mark.parametrize(
    ("change", "ok"),
    [
        ({}, True),
        ({"ARM_USE_OIDC": None}, False),
        ({"ARM_USE_OIDC": "false"}, False),
        ({"ARM_CLIENT_ID": ""}, False),
        ({"ARM_TENANT_ID": None}, False),
        ({"ARM_SUBSCRIPTION_ID": ""}, False),
        ({"AZURE_CLIENT_ID": None}, False),
        ({"AZURE_CLIENT_ID": "00000000-0000-0000-0000-0000000000ff"}, False),
        ({"AZURE_TENANT_ID": None}, False),
        ({"AAD_LOGIN_METHOD": None}, False),
        ({"AAD_LOGIN_METHOD": "azurecli"}, False),
        ({"ARM_OIDC_TOKEN": "eyJ..."}, False),
        ({"ARM_OIDC_TOKEN_FILE_PATH": "/tmp/token"}, False),
        ({"ARM_CLIENT_SECRET": "s"}, False),
        ({"AZURE_CLIENT_SECRET": "s"}, False),
        ({"ARM_USE_DEFAULT_AZURE_CREDENTIAL": "true"}, False),
    ],
)
def test_azure_oidc_refuses_a_job_env_that_would_not_renew_itself(change, ok, tmp_path):
    env = {**JOB_ENV, **{k: v for k, v in change.items() if v is not None}}
    for key in [k for k, v in change.items() if v is None]:
        env.pop(key)
    code, _, log = _check_inputs(FULL, tmp_path, env=env)
    assert (code == 0) is ok, log
    if not ok:
        assert "::error::" in log
    # Without azure-oidc the job's env is none of the action's business.
    assert _check_inputs({"python-deps": "program"}, tmp_path, env=env)[0] == 0


def test_azure_oidc_keeps_the_token_file_fresh_in_the_background():
    ran = action_steps({"with": FULL})
    [i] = [i for i, s in enumerate(ran) if is_oidc_step(s)]
    script = ran[i]["run"]
    lines = [line.strip() for line in script.splitlines()]
    # One token now, synchronously (a job that cannot get one fails here), then the loop, detached.
    once = [
        n
        for n, line in enumerate(lines)
        if re.fullmatch(r'bash "\$GITHUB_ACTION_PATH/federated-token\.sh" "\$token_file"', line)
    ]
    loop = [n for n, line in enumerate(lines) if line.startswith("nohup bash") and '"$token_file" loop' in line]
    assert once and loop and once[0] < loop[0]
    assert re.search(r"^\s*< /dev/null > \S+ 2>&1 &$", script, re.M), "the loop holds no pipe of the step open"
    assert re.search(r'^echo "AZURE_FEDERATED_TOKEN_FILE=\$token_file" >> "\$GITHUB_ENV"$', script, re.M)
    assert '"$RUNNER_TEMP/azure-federated-token"' in script
    # Before anything that authenticates: the Pulumi CLI install and its commands come later.
    assert i < indices(ran, "pulumi/actions")[0]
    assert not [s for s in action_steps({"with": {"python-deps": "program"}}) if is_oidc_step(s)]


def _fake_curl(tmp_path: Path, body: str, status: int = 0) -> Path:
    """A curl that records its arguments and answers ``body`` (exit ``status``)."""
    fake = tmp_path / "fakebin"
    fake.mkdir(exist_ok=True)
    (fake / "curl").write_text(
        f"#!/usr/bin/env bash\nprintf '%s\\n' \"$@\" > {tmp_path}/curl-args\nprintf '%s' '{body}'\nexit {status}\n"
    )
    (fake / "curl").chmod(0o755)
    return fake


@pytest.mark.parametrize(
    ("body", "status", "runner_env", "ok"),
    [
        ('{"value": "header.payload.signature"}', 0, True, True),
        ('{"count": 1}', 0, True, False),
        ("", 22, True, False),
        ('{"value": "header.payload.signature"}', 0, False, False),
    ],
)
def test_the_token_script_writes_a_fresh_github_token_for_entra(body, status, runner_env, ok, tmp_path):
    fake = _fake_curl(tmp_path, body, status)
    token_file = tmp_path / "token"
    token_file.write_text("previous")
    env = {"PATH": f"{fake}:{os.environ.get('PATH', '')}", "HOME": str(tmp_path)}
    if runner_env:
        env["ACTIONS_ID_TOKEN_REQUEST_URL"] = "https://pipelines.invalid/oidc?api-version=2.0"
        env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = "runtime-token"
    proc = subprocess.run(
        ["bash", str(TOKEN_SCRIPT), str(token_file)], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    if not ok:
        assert proc.returncode != 0
        assert token_file.read_text() == "previous", "a failed request leaves the last good token"
        return
    assert proc.returncode == 0, proc.stderr
    assert token_file.read_text() == "header.payload.signature"
    assert token_file.stat().st_mode & 0o077 == 0, "only the job's user may read the token"
    assert "header.payload.signature" not in proc.stdout + proc.stderr
    args = (tmp_path / "curl-args").read_text().splitlines()
    # The request @actions/core getIDToken makes, for the audience Entra expects from GitHub.
    assert "https://pipelines.invalid/oidc?api-version=2.0&audience=api%3A%2F%2FAzureADTokenExchange" in args
    assert "Authorization: bearer runtime-token" in args
    assert "--fail" in args


def test_the_token_script_refreshes_well_within_the_token_lifetime():
    # GitHub's tokens are valid for 5 minutes (AADSTS700024 in Azure/login#180).
    text = TOKEN_SCRIPT.read_text()
    [interval] = re.findall(r"interval=\$\{REFRESH_SECONDS:-(\d+)\}", text)
    assert int(interval) <= 120
    assert re.search(r'mv -f "\$file\.tmp" "\$file"', text), "readers never see a half-written token"


@pytest.mark.parametrize(("installed", "ok"), [("v3.272.0", True), ("v3.271.0", False), ("", False)])
def test_the_pulumi_version_output_is_the_checked_cli(installed, ok, tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "pulumi").write_text(f"#!/bin/sh\necho '{installed}'\n")
    (fake / "pulumi").chmod(0o755)
    [check] = [
        s for s in action_steps({"with": {"python-deps": "none", "pulumi-cli": True}}) if s.get("id") == "pulumi"
    ]
    code, outputs, log = run_step(check, {}, tmp_path, {"PATH": f"{fake}:{os.environ.get('PATH', '')}"})
    if ok:
        assert code == 0, log
        assert outputs == {"version": requirement_pin("pulumi")}
        assert STEP_OUTPUT.match(setup_action()["outputs"]["pulumi-version"]["value"]).group(1) == "pulumi"
    else:
        assert code != 0, log


def test_the_cli_check_follows_the_install():
    ran = action_steps({"with": {"python-deps": "none", "pulumi-cli": True}})
    [install] = indices(ran, "pulumi/actions")
    [check] = [i for i, s in enumerate(ran) if s.get("id") == "pulumi"]
    assert install < check
    assert ran[install]["with"] == {"pulumi-version": ran[check]["env"]["PULUMI_VERSION"]}
    assert not [s for s in action_steps({"with": {"python-deps": "none"}}) if s.get("id") == "pulumi"]


# --- using the setup action ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(EXPECTED_WORKFLOWS))
def test_workflows_pass_the_setup_action_declared_inputs_and_every_required_one(name):
    assert setup_input_problems(workflow(name)) == []


def _undeclared(wf):
    _setup_step(wf)["with"]["python_deps"] = "program"


def _required_missing(wf):
    _setup_step(wf)["with"].pop("python-deps")


def _both_previews() -> dict:
    """cloud-preview.yml with the offline-plan job of preview.yml beside its preview job."""
    wf = workflow("cloud-preview.yml")
    wf["jobs"]["offline-plan"] = workflow("preview.yml")["jobs"]["offline-plan"]
    return wf


def _before_checkout(wf):
    job = wf["jobs"]["preview"]
    job["steps"].insert(0, job["steps"].pop(step_index(job, SETUP_ACTION)[0]))


def _other_local_action(wf):
    _setup_step(wf)["uses"] = "./.github/actions/login"


@pytest.mark.parametrize("breakage", [_undeclared, _required_missing, _before_checkout, _other_local_action])
def test_the_setup_input_check_catches(breakage):
    wf = _both_previews()
    breakage(wf)
    assert setup_input_problems(wf)


@pytest.mark.parametrize("name", sorted(EXPECTED_WORKFLOWS))
def test_every_use_of_the_setup_action_passes_its_input_check(name, tmp_path):
    wf = workflow(name)
    uses = [(job_id, s) for job_id, job in wf["jobs"].items() for s in steps(job) if is_setup(s)]
    assert uses
    for job_id, step in uses:
        oidc = permissions(wf, wf["jobs"][job_id]).get("id-token") == "write"
        code, _, log = _check_inputs(step.get("with") or {}, tmp_path, oidc)
        assert code == 0, f"job {job_id}: {log}"


@pytest.mark.parametrize("name", sorted(EXPECTED_WORKFLOWS))
def test_jobs_get_python_azure_and_pulumi_from_the_setup_action(name):
    assert setup_needed_problems(workflow(name)) == []


@pytest.mark.parametrize("name", sorted(EXPECTED_WORKFLOWS))
def test_no_workflow_repeats_a_setup_step(name):
    assert repeated_setup_problems(workflow(name)) == []


def _direct_login(wf):
    wf["jobs"]["preview"]["steps"].insert(2, {"uses": "azure/login@v3", "with": {"client-id": "x"}})


def _direct_kubelogin(wf):
    wf["jobs"]["preview"]["steps"].insert(2, {"uses": "azure/use-kubelogin@v1.3"})


def _direct_python(wf):
    wf["jobs"]["offline-plan"]["steps"].insert(1, {"uses": "actions/setup-python@v7"})


def _direct_venv(wf):
    wf["jobs"]["preview"]["steps"].insert(2, {"run": 'python -m venv venv\necho "$PWD/venv/bin" >> "$GITHUB_PATH"'})


def _direct_dev_deps(wf):
    wf["jobs"]["offline-plan"]["steps"].insert(2, {"name": "Install", "run": "bash bin/_venv.sh"})


def _direct_cli(wf):
    wf["jobs"]["preview"]["steps"].insert(2, {"uses": "pulumi/actions@v7", "with": {"pulumi-version": "3.272.0"}})


@pytest.mark.parametrize(
    "breakage", [_direct_login, _direct_kubelogin, _direct_python, _direct_venv, _direct_dev_deps, _direct_cli]
)
def test_the_repeated_setup_check_catches(breakage):
    wf = _both_previews()
    breakage(wf)
    assert repeated_setup_problems(wf)


def _plan_without_setup(wf):
    job = wf["jobs"]["offline-plan"]
    job["steps"] = [s for s in steps(job) if not is_setup(s)]


def _preview_without_azure(wf):
    _setup_step(wf)["with"]["azure-oidc"] = False


def _preview_without_program(wf):
    _setup_step(wf)["with"]["python-deps"] = "none"


def _setup_after_pulumi(wf):
    job = wf["jobs"]["preview"]
    job["steps"].append(job["steps"].pop(step_index(job, SETUP_ACTION)[0]))


@pytest.mark.parametrize(
    "breakage", [_plan_without_setup, _preview_without_azure, _preview_without_program, _setup_after_pulumi]
)
def test_the_setup_needed_check_catches(breakage):
    wf = _both_previews()
    breakage(wf)
    assert setup_needed_problems(wf)


def test_the_setup_needed_check_sees_pulumi_in_scripts():
    wf = workflow("traffic-switch.yml")
    job = wf["jobs"]["switch"]
    job["steps"] = [s for s in steps(job) if action_of(s) != "pulumi/actions"]
    _setup_step(wf, "switch")["with"]["pulumi-cli"] = False
    i, _ = find_step(job, r"pulumi stack history")
    assert f"job switch step {i}: needs {SETUP_ACTION} with pulumi-cli: true before it" in setup_needed_problems(wf)
    j, _ = find_step(job, re.escape(SECRETS_CHECK))
    assert f"job switch step {j}: needs {SETUP_ACTION} with pulumi-cli: true before it" in setup_needed_problems(wf)


@pytest.mark.parametrize("name", sorted(EXPECTED_WORKFLOWS))
def test_upstream_actions_get_only_inputs_they_declare(name):
    wf = workflow(name)
    assert [p for job in wf["jobs"].values() for p in undeclared_upstream_inputs(steps(job))] == []


def test_the_upstream_input_check_catches():
    wf = workflow("deploy.yml")
    pulumi_commands(wf["jobs"]["deploy"])[0][1]["with"]["policy-packs"] = "policy"
    assert undeclared_upstream_inputs(steps(wf["jobs"]["deploy"]))


# --- ci.yml --------------------------------------------------------------------------------------


def test_ci_runs_bin_test_on_every_push_and_pull_request(tmp_path):
    wf = workflow("ci.yml")
    assert set(wf["on"]) == {"push", "pull_request"}
    push = wf["on"]["push"] or {}
    assert push.get("branches", ["**"]) == ["**"]
    assert not {"branches-ignore", "paths", "paths-ignore", "tags"} & set(push)
    assert not (wf["on"]["pull_request"] or {})
    assert wf["permissions"] == {"contents": "read"}
    [job] = wf["jobs"].values()
    assert "permissions" not in job
    [(j, given)] = setup_uses(job)
    assert given["python-deps"] == "dev"
    eff = effective_steps(job)
    [setup] = [s for s in eff if action_of(s) == "actions/setup-python"]
    assert str(setup["with"]["python-version"]) == PYTHON_VERSION
    # The pip cache is keyed on the files the development dependencies come from.
    code, outputs, log = _check_inputs(steps(job)[j]["with"], tmp_path)
    assert code == 0, log
    assert outputs["cache"] == "pip"
    assert "requirements-dev.txt" in outputs["cache-dependency-path"].split()
    assert not {"azure/login", "azure/use-kubelogin", "pulumi/actions"} & {action_of(s) for s in eff}
    i, _ = find_step(job, r"^bin/test\s*$")
    assert step_index(job, "actions/checkout") and step_index(job, "actions/checkout")[0] < j < i


# --- preview.yml ---------------------------------------------------------------------------------


SAME_REPOSITORY = "github.event.pull_request.head.repo.full_name == github.repository"
PR_HEAD = re.compile(r"github\.event\.pull_request\.head\.|github\.head_ref")


def test_previews_run_on_pull_requests_into_the_deploy_branches():
    offline, cloud = workflow("preview.yml"), workflow("cloud-preview.yml")
    assert set(offline["on"]) == {"pull_request"}
    assert sorted(offline["on"]["pull_request"]["branches"]) == sorted(["develop", "staging", "main"])
    assert set(cloud["on"]) == {"pull_request_target"}
    assert sorted(cloud["on"]["pull_request_target"]["branches"]) == sorted(["develop", "staging", "main"])


def fork_problems(wf: dict) -> list[str]:
    """What a pull request from a fork could reach through a workflow.

    Under `pull_request` a fork's run gets no secrets and a read-only token, but runs the pull request's own
    version of the workflow: such a workflow must hold no identity at all (no id-token, no environment, no
    secrets). Under `pull_request_target` the base branch's workflow runs with secrets and a writable token
    even for forks: every job must be limited to branches of this repository, and the pull request's code
    must never land where the workflow's own action and scripts are read from (the workspace root).
    """
    problems = []
    triggers = set(wf["on"]) if isinstance(wf["on"], dict) else set(as_list(wf["on"]))
    for job_id, job in wf["jobs"].items():
        where = f"job {job_id}"
        if "pull_request" in triggers:
            if permissions(wf, job).get("id-token"):
                problems.append(f"{where}: id-token under pull_request (the pull request's own workflow runs)")
            if "environment" in job:
                problems.append(f"{where}: an environment under pull_request (the pull request's own workflow runs)")
            if "secrets." in str(job):
                problems.append(f"{where}: reads secrets under pull_request")
        if "pull_request_target" in triggers:
            if SAME_REPOSITORY not in str(job.get("if", "")):
                problems.append(f"{where}: runs for forks under pull_request_target")
            for i, step in enumerate(steps(job)):
                given = step.get("with") or {}
                at_root = str(given.get("path", ".")).strip("/") in ("", ".")
                if action_of(step) == "actions/checkout" and PR_HEAD.search(str(given.get("ref", ""))) and at_root:
                    problems.append(f"{where} step {i}: checks the pull request out into the workspace root")
    return problems


@pytest.mark.parametrize("name", sorted(EXPECTED_WORKFLOWS))
def test_pull_requests_from_forks_reach_no_identity(name):
    assert fork_problems(workflow(name)) == []


def _offline_plan_with_id_token(wf):
    wf["jobs"]["offline-plan"]["permissions"]["id-token"] = "write"


def _offline_plan_in_an_environment(wf):
    wf["jobs"]["offline-plan"]["environment"] = "preview"


def _offline_plan_with_a_secret(wf):
    wf["jobs"]["offline-plan"]["steps"][-1]["env"]["TOKEN"] = "${{ secrets.PULUMI_ACCESS_TOKEN }}"


def _cloud_preview_for_forks(wf):
    wf["jobs"]["preview"].pop("if")


def _cloud_preview_under_pull_request(wf):
    wf["on"] = {"pull_request": wf["on"]["pull_request_target"]}


def _pull_request_code_at_the_root(wf):
    job = wf["jobs"]["preview"]
    [i] = [i for i, s in enumerate(steps(job)) if PR_HEAD.search(str((s.get("with") or {}).get("ref", "")))]
    job["steps"][i]["with"].pop("path")


@pytest.mark.parametrize(
    ("name", "breakage"),
    [
        ("preview.yml", _offline_plan_with_id_token),
        ("preview.yml", _offline_plan_in_an_environment),
        ("preview.yml", _offline_plan_with_a_secret),
        ("cloud-preview.yml", _cloud_preview_for_forks),
        ("cloud-preview.yml", _cloud_preview_under_pull_request),
        ("cloud-preview.yml", _pull_request_code_at_the_root),
    ],
)
def test_the_fork_check_catches(name, breakage):
    wf = workflow(name)
    breakage(wf)
    assert fork_problems(wf)


def test_the_cloud_preview_previews_dev_and_staging_with_the_preview_identity_and_comments():
    wf = workflow("cloud-preview.yml")
    [job] = wf["jobs"].values()
    assert job["if"] == SAME_REPOSITORY
    assert job["environment"] == "preview" == PREVIEW_ENVIRONMENT
    # The stacks whose keys the bootstrap lets the preview identity decrypt: dev and staging, never prod.
    assert PREVIEW_STACKS == ["dev", "staging"] and not set(PREVIEW_STACKS) & set(PRODUCTION_STACKS)
    assert job["strategy"]["matrix"]["stack"] == PREVIEW_STACKS
    assert job["env"]["PULUMI_SECRETS_PROVIDER"] == secrets_provider_env("${{ matrix.stack }}")
    assert permissions(wf, job) == {"contents": "read", "id-token": "write", "pull-requests": "write"}
    # The identity is the `preview` environment's variable, as every Azure consumer reads it.
    assert job["env"]["ARM_CLIENT_ID"] == job["env"]["AZURE_CLIENT_ID"] == "${{ vars.AZURE_CLIENT_ID }}"
    [(_, step)] = pulumi_commands(job)
    assert step["with"]["command"] == "preview"
    assert step["with"]["stack-name"] == "${{ matrix.stack }}"
    assert truthy(step["with"]["comment-on-pr"])
    assert truthy(step["with"]["diff"])


def test_the_cloud_preview_says_why_prod_is_not_previewed():
    """The comment right above the matrix's stacks says why prod is missing and where prod is reviewed instead,
    and the header's description of the preview identity grants Crypto User on the dev and staging keys only."""
    lines = (WORKFLOW_DIR / "cloud-preview.yml").read_text().splitlines()
    [at] = [i for i, line in enumerate(lines) if re.fullmatch(r"\s+stack: \[.*\]", line)]
    comment = []
    for line in reversed(lines[:at]):
        if not line.strip().startswith("#"):
            break
        comment.insert(0, line.strip().lstrip("# "))
    text = " ".join(comment)
    assert "pulumi-prod" in text and "preview.yml" in text, text
    header = " ".join(line.lstrip("# ") for line in lines if line.startswith("#"))
    assert re.search(r"Key Vault Crypto User on the dev\s+and staging keys only", header), header
    assert not re.search(r"Crypto User on the secrets-provider key|decrypt the stacks' secrets", header)


def test_the_cloud_preview_runs_the_base_branch_tooling_on_the_pull_request_code():
    """The setup action and the check script are read from the workspace root: the base branch's checkout.
    The pull request's code is in its own folder, and Pulumi, its dependencies and the stack check use that."""
    job = workflow("cloud-preview.yml")["jobs"]["preview"]
    checkouts = [(i, steps(job)[i].get("with") or {}) for i in step_index(job, "actions/checkout")]
    (base_at, base), (pr_at, pr) = checkouts
    assert "ref" not in base and str(base.get("path", ".")) in (".", "./"), "the base branch at the root"
    assert pr["ref"] == "${{ github.event.pull_request.head.sha }}"
    folder = pr["path"]
    assert folder not in (".", "./", "")
    assert not truthy(base.get("persist-credentials", True)) and not truthy(pr.get("persist-credentials", True))
    [(j, given)] = setup_uses(job)
    assert base_at < pr_at < j
    assert given["working-directory"] == folder and given["python-deps"] == "program"
    k, check = find_step(job, re.escape(SECRETS_CHECK))
    assert check["run"] == f'{SECRETS_CHECK} "$STACK" {folder}'
    [(m, step)] = pulumi_commands(job)
    assert step["with"]["work-dir"] == folder
    assert j < k < m


def test_the_offline_plan_diffs_every_stack_against_the_base_branch_without_the_cloud():
    wf = workflow("preview.yml")
    job = wf["jobs"]["offline-plan"]
    assert "if" not in job, "the offline plan also runs for pull requests from forks"
    assert job["strategy"]["matrix"]["stack"] == STACKS
    perms = permissions(wf, job)
    assert perms.get("pull-requests") == "write"
    assert "id-token" not in perms
    eff = effective_steps(job)
    assert not indices(eff, "azure/login") and not indices(eff, "pulumi/actions")
    assert not indices(eff, "azure/use-kubelogin")
    assert not any("secrets." in str(v) for s in eff for v in (s.get("env") or {}).values())
    assert not any("secrets." in str(v) for s in eff for v in (s.get("with") or {}).values())
    [checkout] = [s for s in steps(job) if action_of(s) == "actions/checkout"]
    assert checkout["with"]["fetch-depth"] == 0
    i, plan = find_step(job, r"bin/plan diff --stack")
    # The development dependencies (bin/_venv.sh) are installed through the setup action before the plan.
    [(j, given)] = setup_uses(job)
    assert given["python-deps"] == "dev" and j < i
    venv = [s for s in eff if re.fullmatch(r"bash bin/_venv\.sh\s*", s.get("run", ""))]
    assert len(venv) == 1 and venv[0]["_origin"] == j
    assert re.search(
        r'bin/plan diff --stack "\$STACK" --base "origin/\$BASE_REF"( --traffic \S+)? > (\S+)', plan["run"]
    )
    assert plan["env"] == {"STACK": "${{ matrix.stack }}", "BASE_REF": "${{ github.base_ref }}"}
    assert '>> "$GITHUB_STEP_SUMMARY"' in plan["run"]
    [(j, comment)] = [(j, s) for j, s in enumerate(steps(job)) if action_of(s) == "actions/github-script"]
    assert j > i
    assert truthy(comment.get("continue-on-error")), "the comment fails on forks (read-only token)"
    assert "updateComment" in comment["with"]["script"] and "createComment" in comment["with"]["script"]


def test_a_failed_offline_plan_still_posts_then_fails_the_job():
    job = workflow("preview.yml")["jobs"]["offline-plan"]
    _, plan = find_step(job, r"bin/plan diff --stack")
    assert "set +e" in plan["run"]
    assert "exit-code=" in plan["run"]
    last = steps(job)[-1]
    assert plan.get("id") and f"steps.{plan['id']}.outputs.exit-code" in last["if"]
    assert "exit 1" in last["run"]


# --- deploy.yml ----------------------------------------------------------------------------------


def test_deploy_runs_on_the_deploy_branches_and_release_tags():
    wf = workflow("deploy.yml")
    assert set(wf["on"]) == {"push"}
    assert sorted(wf["on"]["push"]["branches"]) == ["develop", "staging"]
    assert wf["on"]["push"]["tags"] == ["v*.*.*"]


@pytest.mark.parametrize(
    ("ref", "stack"),
    [
        ("refs/heads/develop", "dev"),
        ("refs/heads/staging", "staging"),
        ("refs/tags/v1.2.3", "prod"),
        ("refs/tags/v10.0.12", "prod"),
        ("refs/heads/main", None),
        ("refs/heads/feature/develop", None),
        ("refs/tags/v1.2", None),
        ("refs/tags/v1.2.3-rc.1", None),
        ("refs/tags/vx.y.z", None),
        ("refs/tags/v.2.3", None),
        ("refs/tags/release-1.2.3", None),
    ],
)
def test_deploy_maps_the_ref_to_its_stack(ref, stack, tmp_path):
    code, value = map_ref(workflow("deploy.yml"), "target", "stack", ref, tmp_path)
    if stack is None:
        assert code != 0 and not value
    else:
        assert (code, value) == (0, stack)


def test_release_tags_must_be_on_main():
    job = workflow("deploy.yml")["jobs"]["target"]
    _, step = find_step(job, r"merge-base --is-ancestor")
    assert "origin/main" in step["run"]
    assert "prod" in step["if"]


def test_deploy_updates_one_stack_at_a_time_in_its_environment_after_the_tests():
    wf = workflow("deploy.yml")
    job = wf["jobs"]["deploy"]
    [(_, step)] = pulumi_commands(job)
    assert step["with"]["command"] == "up"
    stack = step["with"]["stack-name"]
    assert stack == "${{ needs.target.outputs.stack }}"
    assert job["environment"] == stack
    assert job["concurrency"] == {"group": "pulumi-" + stack, "cancel-in-progress": False}
    tests = [needed for needed in as_list(job["needs"]) if needed != "target"]
    assert any(re.search(r"^bin/test\b", s.get("run", ""), re.M) for t in tests for s in steps(wf["jobs"][t]))
    # The credentials of the update are those of its environment: the job's env reads the environment's
    # variables, the setup action keeps the token file fresh, and only this job may request an OIDC token.
    assert {key: job["env"][key] for key in PULUMI_ENV} == PULUMI_ENV
    assert job["env"]["PULUMI_SECRETS_PROVIDER"] == secrets_provider_env(stack)
    [(j, given)] = setup_uses(job)
    assert given["azure-oidc"] == "true"
    assert [s["_origin"] for s in effective_steps(job) if is_oidc_step(s)] == [j]
    assert [job_id for job_id, other in wf["jobs"].items() if permissions(wf, other).get("id-token")] == ["deploy"]


# --- traffic-switch.yml --------------------------------------------------------------------------


def test_traffic_switch_inputs_are_the_stacks_actions_colors_and_weight():
    wf = workflow("traffic-switch.yml")
    assert set(wf["on"]) == {"workflow_dispatch"}
    inputs = wf["on"]["workflow_dispatch"]["inputs"]
    assert set(inputs) == {"stack", "action", "color", "weight"}
    assert inputs["stack"]["type"] == "choice" and inputs["stack"]["options"] == STACKS
    assert inputs["action"]["type"] == "choice" and inputs["action"]["options"] == ["switch", "abort", "canary"]
    assert inputs["color"]["type"] == "choice" and inputs["color"]["options"] == COLORS
    assert inputs["stack"]["required"] is True and inputs["action"]["required"] is True
    assert inputs["weight"]["type"] == "string"


def test_traffic_switch_shares_the_deploy_concurrency_group():
    wf = workflow("traffic-switch.yml")
    [job] = wf["jobs"].values()
    stack = "${{ inputs.stack }}"
    assert job["environment"] == stack
    assert job["concurrency"] == {"group": "pulumi-" + stack, "cancel-in-progress": False}
    deploy = workflow("deploy.yml")["jobs"]["deploy"]["concurrency"]["group"]
    assert deploy.replace("${{ needs.target.outputs.stack }}", "<stack>") == job["concurrency"]["group"].replace(
        stack, "<stack>"
    )
    assert permissions(wf, job) == {"contents": "write", "pull-requests": "write", "id-token": "write"}


@pytest.mark.parametrize(
    ("stack", "action", "color", "weight", "ref", "branch", "sets"),
    [
        ("dev", "switch", "blue", "0", "refs/heads/develop", "develop", "activeColor=blue canaryWeight=0"),
        ("staging", "switch", "green", "0", "refs/heads/staging", "staging", "activeColor=green canaryWeight=0"),
        ("prod", "switch", "green", "0", "refs/tags/v1.4.2", "main", "activeColor=green canaryWeight=0"),
        ("prod", "switch", "blue", "0", "refs/tags/v10.0.12", "main", "activeColor=blue canaryWeight=0"),
        # Abort: the canary to 0 in one step, nothing else (the color input is not read).
        ("prod", "abort", "purple", "55", "refs/tags/v1.4.2", "main", "canaryWeight=0"),
        ("prod", "canary", "blue", "25", "refs/tags/v1.4.2", "main", "canaryWeight=25"),
        ("prod", "canary", "blue", "100", "refs/tags/v1.4.2", "main", "canaryWeight=100"),
        ("prod", "canary", "blue", "0", "refs/tags/v1.4.2", "main", "canaryWeight=0"),
        # The ref decides the code: prod only from a release tag (its environment admits nothing else),
        # dev and staging only from the branch they deploy from.
        ("prod", "switch", "green", "0", "refs/heads/main", None, None),
        ("prod", "switch", "green", "0", "refs/tags/v1.4.2-rc.1", None, None),
        ("prod", "switch", "green", "0", "refs/tags/release-1.4.2", None, None),
        ("prod", "switch", "green", "0", "refs/heads/v1.4.2", None, None),
        ("dev", "switch", "blue", "0", "refs/heads/main", None, None),
        ("dev", "abort", "blue", "0", "refs/tags/v1.4.2", None, None),
        ("staging", "switch", "blue", "0", "refs/heads/develop", None, None),
        # The choices and the weight.
        ("qa", "switch", "blue", "0", "refs/heads/develop", None, None),
        ("prod", "switch", "purple", "0", "refs/tags/v1.4.2", None, None),
        ("prod; echo", "switch", "blue", "0", "refs/tags/v1.4.2", None, None),
        ("", "switch", "green", "0", "refs/heads/develop", None, None),
        ("prod", "rollback", "green", "0", "refs/tags/v1.4.2", None, None),
        ("prod", "canary", "blue", "101", "refs/tags/v1.4.2", None, None),
        ("prod", "canary", "blue", "-1", "refs/tags/v1.4.2", None, None),
        ("prod", "canary", "blue", "5 activeColor=green", "refs/tags/v1.4.2", None, None),
        ("prod", "canary", "blue", "", "refs/tags/v1.4.2", None, None),
    ],
)
def test_traffic_switch_validates_its_inputs_and_ref_first(stack, action, color, weight, ref, branch, sets, tmp_path):
    job = workflow("traffic-switch.yml")["jobs"]["switch"]
    first = steps(job)[0]
    assert "run" in first, "the inputs are validated before anything else runs"
    assert first["env"]["REF"] == "${{ github.ref }}"
    given = {"inputs.stack": stack, "inputs.action": action, "inputs.color": color, "inputs.weight": weight}
    code, outputs, log = run_step(first, {**given, "github.ref": ref}, tmp_path)
    if branch is None:
        assert code != 0, log
        assert "::error::" in log
    else:
        assert code == 0, log
        assert outputs.get("branch") == branch
        assert outputs.get("sets") == sets


def test_traffic_switch_runs_the_dispatched_ref():
    """No checkout of another ref: the code that updates the stack, the workflow and its setup action all
    come from the commit the workflow was dispatched on (the ref the environment's rules admitted)."""
    job = workflow("traffic-switch.yml")["jobs"]["switch"]
    [i] = step_index(job, "actions/checkout")
    checkout = steps(job)[i].get("with") or {}
    assert "ref" not in checkout and "path" not in checkout
    assert checkout["fetch-depth"] == 0, "origin/main and origin/<branch> are needed"
    [(j, given)] = setup_uses(job)
    assert i < j and given["azure-oidc"] == "true"
    before_up = [s for s in steps(job)[: pulumi_commands(job)[0][0]] if "run" in s]
    assert not any(re.search(r"git (checkout|switch|restore)\b", s["run"]) for s in before_up)
    _, on_main = find_step(job, r"merge-base --is-ancestor")
    assert "origin/main" in on_main["run"] and "prod" in on_main["if"]


def _history(*updates: tuple[str, str, str]) -> str:
    """`pulumi stack history --json`: newest first."""
    return json.dumps(
        [
            {"version": 10 - n, "kind": kind, "result": result, "message": message}
            for n, (kind, result, message) in enumerate(updates)
        ]
    )


@pytest.mark.parametrize(
    ("stack", "ref_name", "sha", "history", "ok"),
    [
        ("prod", "v1.4.2", "a" * 40, [("update", "succeeded", f"v1.4.2 {'a' * 40} (https://run)")], True),
        # A failed update and a refresh since the deployment do not count.
        (
            "prod",
            "v1.4.2",
            "a" * 40,
            [
                ("update", "failed", f"v1.5.0 {'b' * 40} (https://run)"),
                ("refresh", "succeeded", ""),
                ("update", "succeeded", f"v1.4.2 {'a' * 40} traffic switch of prod to blue by someone"),
            ],
            True,
        ),
        ("prod", "v1.4.1", "c" * 40, [("update", "succeeded", f"v1.4.2 {'a' * 40} (https://run)")], False),
        ("prod", "v1.4.2", "c" * 40, [("update", "succeeded", f"v1.4.2 {'a' * 40} (https://run)")], False),
        ("prod", "v1.4.2", "a" * 40, [("update", "succeeded", "manual fix")], False),
        ("prod", "v1.4.2", "a" * 40, [], False),
        # dev and staging: the branch decides; a newer head only warns.
        ("staging", "staging", "d" * 40, [("update", "succeeded", f"staging {'e' * 40} (https://run)")], True),
        ("dev", "develop", "d" * 40, [("update", "succeeded", f"staging {'d' * 40} (https://run)")], False),
    ],
)
def test_traffic_switch_updates_only_the_deployed_release(stack, ref_name, sha, history, ok, tmp_path):
    job = workflow("traffic-switch.yml")["jobs"]["switch"]
    i, step = find_step(job, r"pulumi stack history")
    [(up, _)] = pulumi_commands(job)
    [(j, _)] = setup_uses(job)
    assert j < i < up
    fake = tmp_path / "fakebin"
    fake.mkdir()
    (tmp_path / "history.json").write_text(_history(*history))
    (fake / "pulumi").write_text(
        f'#!/usr/bin/env bash\nif [ "$1" = stack ] && [ "$2" = history ]; then cat {tmp_path}/history.json; fi\n'
    )
    (fake / "pulumi").chmod(0o755)
    runner = {
        "PATH": f"{fake}:{os.environ.get('PATH', '')}",
        "GITHUB_REF_NAME": ref_name,
        "GITHUB_SHA": sha,
        "PULUMI_BACKEND_URL": "azblob://state?storage_account=acct",
    }
    code, _, log = run_step(step, {"inputs.stack": stack}, tmp_path, runner)
    assert (code == 0) is ok, log
    if stack != "prod" and ok and history[0][2].split()[1] != sha:
        assert "::warning::" in log


def test_traffic_switch_messages_name_the_ref_and_commit_first():
    """The deployed-release check reads "<ref name> <commit>" at the start of the last update's message."""
    prefix = "${{ github.ref_name }} ${{ github.sha }} "
    for name, job_id in (("deploy.yml", "deploy"), ("traffic-switch.yml", "switch")):
        [(_, step)] = pulumi_commands(workflow(name)["jobs"][job_id])
        assert step["with"]["message"].startswith(prefix), name


def test_traffic_switch_changes_the_deployed_configuration_updates_and_records_a_pull_request():
    job = workflow("traffic-switch.yml")["jobs"]["switch"]
    i, change = find_step(job, r"pulumi config refresh")
    script = change["run"]
    # The deployed configuration first, then only the validated keys, then the guard.
    assert script.index('pulumi config refresh --stack "$STACK" --force') < script.index("pulumi config set")
    assert 'pulumi config set "${pair%%=*}" "${pair#*=}" --stack "$STACK"' in script
    assert change["env"]["SETS"] == "${{ steps.inputs.outputs.sets }}"
    assert not re.search(r"pulumi config set (activeColor|canaryWeight|--path)", script)
    [(up, step)] = pulumi_commands(job)
    assert step["with"]["command"] == "up" and step["with"]["stack-name"] == "${{ inputs.stack }}"
    assert i < up
    [pr] = step_index(job, "peter-evans/create-pull-request")
    assert pr > up
    given = steps(job)[pr]["with"]
    assert given["add-paths"] == "Pulumi.${{ inputs.stack }}.yaml"
    assert given["base"] == "${{ steps.inputs.outputs.branch }}"


def _fake_pulumi(tmp_path, before: dict, after: dict):
    """A pulumi CLI that answers `config --json` with ``before`` until a `config set`, then ``after``."""
    fake = tmp_path / "fakebin"
    fake.mkdir()
    (tmp_path / "before.json").write_text(json.dumps(before))
    (tmp_path / "after.json").write_text(json.dumps(after))
    (fake / "pulumi").write_text(
        "#!/usr/bin/env bash\n"
        f'echo "$*" >> {tmp_path}/calls\n'
        f'if [ "$1" = config ] && [ "$2" = set ]; then touch {tmp_path}/set; fi\n'
        f'if [ "$1" = config ] && [ "$2" = --stack ]; then\n'
        f"  if [ -e {tmp_path}/set ]; then cat {tmp_path}/after.json; else cat {tmp_path}/before.json; fi\n"
        "fi\n"
    )
    (fake / "pulumi").chmod(0o755)
    return fake


DEPLOYED = {
    "broxiva-platform:activeColor": {"value": "blue", "secret": False},
    "broxiva-platform:canaryWeight": {"value": "50", "secret": False},
    "broxiva-platform:colors": {"value": "{...}", "secret": False},
}


@pytest.mark.parametrize(
    ("after", "ok"),
    [
        ({**DEPLOYED, "broxiva-platform:canaryWeight": {"value": "0", "secret": False}}, True),
        (
            {
                **DEPLOYED,
                "broxiva-platform:activeColor": {"value": "green", "secret": False},
                "broxiva-platform:canaryWeight": {"value": "0", "secret": False},
            },
            True,
        ),
        # Anything else that moves stops the job before the update.
        ({**DEPLOYED, "broxiva-platform:colors": {"value": "{other}", "secret": False}}, False),
        ({**DEPLOYED, "broxiva-platform:extra": {"value": "x", "secret": False}}, False),
        ({k: v for k, v in DEPLOYED.items() if k != "broxiva-platform:colors"}, False),
        ({**DEPLOYED, "broxiva-platform:colors": {"secret": True}}, False),
        ({**DEPLOYED, "broxiva-platform:canaryWeight": {"value": "0", "secret": False}, "aws:region": {}}, False),
    ],
)
def test_traffic_switch_refuses_any_other_change(after, ok, tmp_path):
    job = workflow("traffic-switch.yml")["jobs"]["switch"]
    _, change = find_step(job, r"pulumi config refresh")
    fake = _fake_pulumi(tmp_path, DEPLOYED, after)
    runner = {
        "PATH": f"{fake}:{os.environ.get('PATH', '')}",
        "PULUMI_BACKEND_URL": "azblob://state?storage_account=acct",
        "RUNNER_TEMP": str(tmp_path),
    }
    values = {"inputs.stack": "prod", "steps.inputs.outputs.sets": "canaryWeight=0"}
    code, _, log = run_step(change, values, tmp_path, runner)
    assert (code == 0) is ok, log
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls.index("config refresh --stack prod --force") < calls.index("config set canaryWeight 0 --stack prod")
    if not ok:
        assert "::error::" in log and "only activeColor and canaryWeight may change" in log


ALLOWED_KEYS = {"activeColor", "canaryWeight"}


def _config_commands(job: dict) -> list[tuple[int, str]]:
    """(step index, command) of every `pulumi config ...` line of the job's scripts, in order."""
    return [
        (i, line.strip())
        for i, s in enumerate(steps(job))
        if "run" in s
        for line in s["run"].splitlines()
        if re.search(r"\bpulumi config\b", line)
    ]


def test_traffic_switch_refreshes_the_configuration_before_any_change():
    job = workflow("traffic-switch.yml")["jobs"]["switch"]
    commands = _config_commands(job)
    refreshes = [n for n, (_, c) in enumerate(commands) if c.startswith("pulumi config refresh")]
    sets = [n for n, (_, c) in enumerate(commands) if c.startswith("pulumi config set")]
    assert refreshes == [0], commands
    assert commands[0][1] == 'pulumi config refresh --stack "$STACK" --force'
    assert len(sets) == 2 and min(sets) > 0, "the deployed stack, then the branch of the recording pull request"
    [(up, _)] = pulumi_commands(job)
    assert commands[0][0] < up
    # Nothing but the refresh, the two readings and the validated pairs: no rm, set-all, cp or --path.
    allowed = {
        'pulumi config refresh --stack "$STACK" --force',
        'pulumi config --stack "$STACK" --json > "$RUNNER_TEMP/config-before.json"',
        'pulumi config --stack "$STACK" --json > "$RUNNER_TEMP/config-after.json"',
        'pulumi config set "${pair%%=*}" "${pair#*=}" --stack "$STACK"',
    }
    assert {c for _, c in commands} == allowed
    for i in {i for i, c in commands if c.startswith("pulumi config set")}:
        step = steps(job)[i]
        assert step["env"]["SETS"] == "${{ steps.inputs.outputs.sets }}"
        assert "for pair in $SETS; do" in step["run"]


def _fake_git(tmp_path):
    fake = tmp_path / "fakebin"
    (fake / "git").write_text(f'#!/usr/bin/env bash\necho "git $*" >> {tmp_path}/calls\n')
    (fake / "git").chmod(0o755)


@pytest.mark.parametrize(
    ("action", "color", "weight", "expected"),
    [
        ("switch", "green", "40", ["activeColor green", "canaryWeight 0"]),
        ("switch", "blue", "0", ["activeColor blue", "canaryWeight 0"]),
        # Abort: the canary to 0, one key, whatever color and weight were sent.
        ("abort", "green", "55", ["canaryWeight 0"]),
        ("abort", "blue", "", ["canaryWeight 0"]),
        ("canary", "green", "25", ["canaryWeight 25"]),
    ],
)
def test_traffic_switch_sets_only_active_color_and_canary_weight(action, color, weight, expected, tmp_path):
    """The validated pairs, through the change of the deployed configuration and of the recording branch."""
    job = workflow("traffic-switch.yml")["jobs"]["switch"]
    given = {"inputs.stack": "prod", "inputs.action": action, "inputs.color": color, "inputs.weight": weight}
    code, outputs, log = run_step(steps(job)[0], {**given, "github.ref": "refs/tags/v1.4.2"}, tmp_path)
    assert code == 0, log
    assert {pair.split("=")[0] for pair in outputs["sets"].split()} <= ALLOWED_KEYS
    after = dict(DEPLOYED)
    for pair in expected:
        key, value = pair.split()
        after[f"broxiva-platform:{key}"] = {"value": value, "secret": False}
    fake = _fake_pulumi(tmp_path, DEPLOYED, after)
    _fake_git(tmp_path)
    runner = {
        "PATH": f"{fake}:{os.environ.get('PATH', '')}",
        "PULUMI_BACKEND_URL": "azblob://state?storage_account=acct",
        "RUNNER_TEMP": str(tmp_path),
    }
    values = {**given, "steps.inputs.outputs.sets": outputs["sets"], "steps.inputs.outputs.branch": outputs["branch"]}
    _, change = find_step(job, r"pulumi config refresh")
    code, _, log = run_step(change, values, tmp_path, runner)
    assert code == 0, log
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls[:2] == ["login azblob://state?storage_account=acct", "config refresh --stack prod --force"]
    assert [c for c in calls if c.startswith("config set")] == [f"config set {p} --stack prod" for p in expected]
    (tmp_path / "calls").write_text("")
    _, record = find_step(job, r"git checkout -B")
    code, _, log = run_step(record, values, tmp_path, runner)
    assert code == 0, log
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls[:2] == ["git checkout -- Pulumi.prod.yaml", "git checkout -B main origin/main"]
    assert [c for c in calls if c.startswith("config ")] == [f"config set {p} --stack prod" for p in expected]


def test_traffic_switch_aborts_in_one_update():
    job = workflow("traffic-switch.yml")["jobs"]["switch"]
    assert len(pulumi_commands(job)) == 1
    script = steps(job)[0]["run"]
    assert re.search(r"^\s*abort\) sets=\"canaryWeight=0\" ;;$", script, re.M)


CONFIG = {"broxiva-platform:canaryWeight": {"value": "25", "secret": False}, "broxiva-platform:x": {"secret": True}}
OTHER = {**CONFIG, "broxiva-platform:canaryWeight": {"value": "0", "secret": False}}


@pytest.mark.parametrize(
    ("entries", "ok"),
    [
        ([("update", "succeeded", CONFIG)], True),
        ([("refresh", "succeeded", dict(reversed(CONFIG.items()))), ("update", "succeeded", CONFIG)], True),
        ([("update", "failed", CONFIG), ("update", "succeeded", CONFIG)], True),
        # `pulumi config refresh` would read the newest entry's configuration, not the deployed one.
        ([("update", "failed", OTHER), ("update", "succeeded", CONFIG)], False),
        ([("refresh", "succeeded", OTHER), ("update", "succeeded", CONFIG)], False),
        ([("destroy", "failed", {}), ("update", "succeeded", CONFIG)], False),
    ],
)
def test_traffic_switch_refuses_a_newest_entry_with_another_configuration(entries, ok, tmp_path):
    job = workflow("traffic-switch.yml")["jobs"]["switch"]
    i, step = find_step(job, r"pulumi stack history")
    j, _ = find_step(job, r"pulumi config refresh")
    assert i < j
    message = f"v1.4.2 {'a' * 40} (https://run)"
    history = [
        {"version": 10 - n, "kind": kind, "result": result, "message": message, "config": config}
        for n, (kind, result, config) in enumerate(entries)
    ]
    (tmp_path / "history.json").write_text(json.dumps(history))
    fake = tmp_path / "fakebin"
    fake.mkdir()
    (fake / "pulumi").write_text(
        f'#!/usr/bin/env bash\nif [ "$1" = stack ] && [ "$2" = history ]; then cat {tmp_path}/history.json; fi\n'
    )
    (fake / "pulumi").chmod(0o755)
    runner = {
        "PATH": f"{fake}:{os.environ.get('PATH', '')}",
        "GITHUB_REF_NAME": "v1.4.2",
        "GITHUB_SHA": "a" * 40,
        "PULUMI_BACKEND_URL": "azblob://state?storage_account=acct",
    }
    code, _, log = run_step(step, {"inputs.stack": "prod"}, tmp_path, runner)
    assert (code == 0) is ok, log
    if not ok:
        assert "::error::the newest entry of prod's history" in log


# --- the secrets-provider check ------------------------------------------------------------------

VAULT_URL = "azurekeyvault://broxiva-ops-kv.vault.azure.net/keys/pulumi-prod"


@pytest.mark.parametrize(
    ("expected", "stack_file", "state_url", "ok"),
    [
        (VAULT_URL, f"secretsprovider: {VAULT_URL}\nencryptedkey: abc\n", None, True),
        (VAULT_URL, f'secretsprovider: "{VAULT_URL}"\n', None, True),
        (VAULT_URL, "secretsprovider: azurekeyvault://other.vault.azure.net/keys/pulumi-prod\n", VAULT_URL, False),
        (VAULT_URL, "secretsprovider: azurekeyvault://broxiva-ops-kv.vault.azure.net/keys/pulumi-dev\n", None, False),
        (VAULT_URL, "secretsprovider: passphrase\n", None, False),
        # No provider in the stack file: Pulumi falls back to the one recorded in the state.
        (VAULT_URL, "config: {}\n", VAULT_URL, True),
        (VAULT_URL, "config: {}\n", "azurekeyvault://other.vault.azure.net/keys/pulumi-prod", False),
        # One key for every stack, or another stack's key: refused even where the stack file agrees with it.
        (
            "azurekeyvault://broxiva-ops-kv.vault.azure.net/keys/pulumi",
            "secretsprovider: azurekeyvault://broxiva-ops-kv.vault.azure.net/keys/pulumi\n",
            None,
            False,
        ),
        (
            "azurekeyvault://broxiva-ops-kv.vault.azure.net/keys/pulumi-dev",
            "secretsprovider: azurekeyvault://broxiva-ops-kv.vault.azure.net/keys/pulumi-dev\n",
            None,
            False,
        ),
        (
            "azurekeyvault://broxiva-ops-kv.vault.azure.net/keys/pulumi-dev",
            "config: {}\n",
            "azurekeyvault://broxiva-ops-kv.vault.azure.net/keys/pulumi-dev",
            False,
        ),
        (VAULT_URL, "config: {}\n", None, False),
        # Variables not set: the URL the workflow builds is incomplete.
        ("azurekeyvault://.vault.azure.net/keys/", f"secretsprovider: {VAULT_URL}\n", None, False),
        ("azurekeyvault://.vault.azure.net/keys/pulumi-prod", f"secretsprovider: {VAULT_URL}\n", None, False),
        ("", "config: {}\n", VAULT_URL, False),
    ],
)
def test_the_secrets_provider_check(expected, stack_file, state_url, ok, tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.prod.yaml").write_text(stack_file)
    state = {"deployment": {"resources": []}}
    if state_url:
        state["deployment"]["secrets_providers"] = {"type": "cloud", "state": {"url": state_url, "encryptedkey": "x"}}
    (tmp_path / "state.json").write_text(json.dumps(state))
    fake = tmp_path / "fakebin"
    fake.mkdir()
    (fake / "pulumi").write_text(
        f'#!/usr/bin/env bash\n[ "$1 $2 $3 $4" = "stack export --stack prod" ] && cat {tmp_path}/state.json\n'
    )
    (fake / "pulumi").chmod(0o755)
    env = {
        "PATH": f"{fake}:{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path),
        "PULUMI_SECRETS_PROVIDER": expected,
    }
    proc = subprocess.run(
        ["bash", str(ROOT / SECRETS_CHECK), "prod", str(project)],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (proc.returncode == 0) is ok, proc.stdout + proc.stderr
    if not ok:
        assert "::error::" in proc.stdout
