"""The GitHub Actions workflows and their setup action: valid against GitHub's schemas, and wired the way the
stacks deploy.

ci.yml runs bin/test; preview.yml plans every stack offline (forks included) and previews it with
Pulumi; deploy.yml maps develop -> dev, staging -> staging and release tags -> prod; traffic-switch.yml
flips activeColor of one stack. Every job that runs Pulumi logs in to Azure by OIDC with the identity
named by repository/environment variables, runs the policy pack, and targets only dev, staging or prod.

The shared setup (Python and the pinned dependencies, azure/login, kubelogin, the Pulumi CLI) lives in
the composite action .github/actions/setup. The checks on a job look through it: each
`uses: ./.github/actions/setup` step stands for the action's steps that run with the inputs the job
passes, so a guarantee holds whether a step is written in the workflow or in the action.

The generic checks return a list of problems; each is also run against a deliberately broken copy of a
workflow or of the action, so none of them can pass by checking nothing.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW_DIR = ROOT / ".github" / "workflows"
SETUP_ACTION_FILE = ROOT / ".github" / "actions" / "setup" / "action.yml"
SETUP_ACTION = "./.github/actions/setup"
STACKS = ["dev", "staging", "prod"]
COLORS = ["blue", "green"]
EXPECTED_WORKFLOWS = {"ci.yml", "preview.yml", "deploy.yml", "traffic-switch.yml"}

AZURE_LOGIN = {
    "client-id": "${{ vars.AZURE_CLIENT_ID }}",
    "tenant-id": "${{ vars.AZURE_TENANT_ID }}",
    "subscription-id": "${{ vars.AZURE_SUBSCRIPTION_ID }}",
}
PULUMI_ENV = {
    "ARM_USE_OIDC": "true",
    "ARM_CLIENT_ID": "${{ vars.AZURE_CLIENT_ID }}",
    "ARM_TENANT_ID": "${{ vars.AZURE_TENANT_ID }}",
    "ARM_SUBSCRIPTION_ID": "${{ vars.AZURE_SUBSCRIPTION_ID }}",
    "AZURE_KEYVAULT_AUTH_VIA_CLI": "true",
}
BACKEND_URL = "${{ vars.PULUMI_BACKEND_URL }}"
PYTHON_VERSION = "3.11"
KUBELOGIN_VERSION = "v0.2.18"
# The upstream actions the setup action runs, at the versions this repository pins.
SETUP_PINS = {
    "actions/setup-python": "v7",
    "azure/login": "v3",
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
    "azure/login": {
        "allow-no-subscriptions", "audience", "auth-type", "client-id", "creds", "enable-AzPSSession",
        "environment", "subscription-id", "tenant-id",
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


def login_problems(where: str, wf: dict, job: dict, login: dict) -> list[str]:
    """An azure/login step: OIDC as the identity the variables name, in a job that may request a token."""
    problems = []
    if permissions(wf, job).get("id-token") != "write":
        problems.append(f"{where}: azure/login without the id-token: write permission")
    given = login.get("with", {})
    if "creds" in given or any("secrets." in str(v) for v in given.values()):
        problems.append(f"{where}: azure/login uses stored credentials")
    for key, expected in AZURE_LOGIN.items():
        if given.get(key) != expected:
            problems.append(f"{where}: azure/login {key} is {given.get(key)!r}, not {expected}")
    return problems


def azure_login_problems(wf: dict, action: dict | None = None) -> list[str]:
    """Every azure/login a job runs, directly or through the setup action."""
    problems = []
    for job_id, job in wf["jobs"].items():
        eff = effective_steps(job, action)
        for i in indices(eff, "azure/login"):
            problems += login_problems(f"job {job_id} step {eff[i]['_origin']}", wf, job, eff[i])
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
        logins = indices(eff, "azure/login")
        if not logins:
            problems.append(f"{where}: no azure/login step")
        for i in logins:
            problems += login_problems(where, wf, job, eff[i])
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
                problems.append(f"{here}: runs before azure/login")
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
            for key, expected in PULUMI_ENV.items():
                if str(env.get(key)) != expected:
                    problems.append(f"{here}: env {key} is {env.get(key)!r}, not {expected!r}")
            try:
                stacks = stack_values(wf, job_id, given.get("stack-name", ""), tmp_path)
            except (AssertionError, KeyError) as err:
                problems.append(f"{here}: stack-name: {err}")
                continue
            if sorted(stacks) != sorted(STACKS) or len(stacks) != len(STACKS):
                problems.append(f"{here}: stacks {stacks}, not exactly {STACKS}")
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
                needs = [("pulumi-cli", "true"), ("azure-login", "true"), ("python-deps", "program")]
            elif PULUMI_IN_SCRIPT.search(step.get("run", "")):
                needs = [("pulumi-cli", "true"), ("azure-login", "true")]
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


@pytest.mark.parametrize(("name", "commands"), [("preview.yml", 1), ("deploy.yml", 1), ("traffic-switch.yml", 1)])
def test_pulumi_jobs_use_oidc_the_policy_pack_and_the_three_stacks(name, commands, tmp_path):
    checked, problems = pulumi_job_problems(workflow(name), tmp_path)
    assert problems == []
    assert checked == commands


def _setup_step(wf, job_id="preview"):
    [i] = [i for i, s in enumerate(steps(wf["jobs"][job_id])) if is_setup(s)]
    return steps(wf["jobs"][job_id])[i]


def _action_step(action, name):
    [step] = [s for s in action["runs"]["steps"] if action_of(s) == name]
    return step


def _drop_id_token(wf, action):
    wf["jobs"]["preview"]["permissions"].pop("id-token")


def _secret_client_id(wf, action):
    _setup_step(wf)["with"]["client-id"] = "${{ secrets.AZURE_CLIENT_ID }}"


def _stored_credentials(wf, action):
    _action_step(action, "azure/login")["with"] = {"creds": "${{ secrets.AZURE_CREDENTIALS }}"}


def _no_policy_pack(wf, action):
    pulumi_commands(wf["jobs"]["preview"])[0][1]["with"].pop("policyPacks")


def _extra_stack(wf, action):
    wf["jobs"]["preview"]["strategy"]["matrix"]["stack"].append("qa")


def _no_oidc_env(wf, action):
    wf["jobs"]["preview"]["env"].pop("ARM_USE_OIDC")


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


def _no_azure_login(wf, action):
    _setup_step(wf)["with"]["azure-login"] = False


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
        _no_policy_pack,
        _extra_stack,
        _no_oidc_env,
        _no_kubelogin,
        _kubelogin_never_runs,
        _latest_kubelogin,
        _login_after_pulumi,
        _no_azure_login,
        _no_program_deps,
        _no_cli,
        _other_cli_version,
        _other_cli_default,
        _literal_cli_version,
        _version_of_another_step,
    ],
)
def test_the_pulumi_job_check_catches(breakage, tmp_path):
    wf, action = workflow("preview.yml"), setup_action()
    breakage(wf, action)
    _, problems = pulumi_job_problems(wf, tmp_path, action)
    assert problems


@pytest.mark.parametrize("name", sorted(EXPECTED_WORKFLOWS))
def test_azure_login_happens_only_by_oidc_in_jobs_that_may_request_a_token(name):
    assert azure_login_problems(workflow(name)) == []


def test_the_azure_login_check_catches_a_job_without_id_token():
    wf = workflow("deploy.yml")
    wf["jobs"]["deploy"]["permissions"] = {"contents": "read"}
    assert azure_login_problems(wf)


def test_the_azure_login_check_follows_the_setup_action():
    wf = workflow("preview.yml")
    _setup_step(wf, "offline-plan")["with"]["azure-login"] = True
    assert any("offline-plan" in p and "id-token" in p for p in azure_login_problems(wf))


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
    _action_step(action, "azure/login")["uses"] = "azure/login@master"


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
        ("dev", [r"^bash bin/_venv\.sh$"]),
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


def _check_inputs(given: dict, tmp_path: Path, oidc: bool = True) -> tuple[int, dict[str, str], str]:
    """Run the action's input check as a use of it passing ``given`` would."""
    [check] = [s for s in setup_action()["runs"]["steps"] if s.get("id") == "check"]
    context = {f"inputs.{name}": value for name, value in setup_inputs({"with": given}).items()}
    extra = {"ACTIONS_ID_TOKEN_REQUEST_URL": "https://token.invalid/"} if oidc else {}
    return run_step(check, context, tmp_path, extra)


AZURE_IDS = {"client-id": "00000000-0000-0000-0000-00000000000c", "tenant-id": "t", "subscription-id": "s"}


@pytest.mark.parametrize(
    ("given", "oidc", "cache"),
    [
        ({"python-deps": "program"}, True, ["requirements.txt", "constraints.txt"]),
        ({"python-deps": "dev"}, True, ["requirements.txt", "requirements-dev.txt", "constraints.txt"]),
        ({"python-deps": "none"}, True, []),
        (
            {"python-deps": "program", "azure-login": True, **AZURE_IDS, "kubelogin": True, "pulumi-cli": True},
            True,
            [
                "requirements.txt",
                "constraints.txt",
            ],
        ),
        ({"python-deps": "none", "pulumi-cli": "true", "pulumi-version": "3.272.0"}, False, []),
        ({}, True, None),
        ({"python-deps": "all"}, True, None),
        ({"python-deps": "program", "azure-login": "yes", **AZURE_IDS}, True, None),
        ({"python-deps": "program", "azure-login": True, **AZURE_IDS, "tenant-id": ""}, True, None),
        ({"python-deps": "program", "azure-login": True, **AZURE_IDS}, False, None),
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
        assert all((ROOT / path).is_file() for path in cache)


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


def _before_checkout(wf):
    job = wf["jobs"]["preview"]
    job["steps"].insert(0, job["steps"].pop(step_index(job, SETUP_ACTION)[0]))


def _other_local_action(wf):
    _setup_step(wf)["uses"] = "./.github/actions/login"


@pytest.mark.parametrize("breakage", [_undeclared, _required_missing, _before_checkout, _other_local_action])
def test_the_setup_input_check_catches(breakage):
    wf = workflow("preview.yml")
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
    wf["jobs"]["preview"]["steps"].insert(2, {"uses": "azure/login@v3", "with": dict(AZURE_LOGIN)})


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
    wf = workflow("preview.yml")
    breakage(wf)
    assert repeated_setup_problems(wf)


def _plan_without_setup(wf):
    job = wf["jobs"]["offline-plan"]
    job["steps"] = [s for s in steps(job) if not is_setup(s)]


def _preview_without_azure(wf):
    _setup_step(wf)["with"]["azure-login"] = False


def _preview_without_program(wf):
    _setup_step(wf)["with"]["python-deps"] = "none"


def _setup_after_pulumi(wf):
    job = wf["jobs"]["preview"]
    job["steps"].append(job["steps"].pop(step_index(job, SETUP_ACTION)[0]))


@pytest.mark.parametrize(
    "breakage", [_plan_without_setup, _preview_without_azure, _preview_without_program, _setup_after_pulumi]
)
def test_the_setup_needed_check_catches(breakage):
    wf = workflow("preview.yml")
    breakage(wf)
    assert setup_needed_problems(wf)


def test_the_setup_needed_check_sees_pulumi_in_scripts():
    wf = workflow("traffic-switch.yml")
    job = wf["jobs"]["switch"]
    job["steps"] = [s for s in steps(job) if action_of(s) != "pulumi/actions"]
    _setup_step(wf, "switch")["with"]["pulumi-cli"] = False
    i, _ = find_step(job, r"pulumi login")
    assert f"job switch step {i}: needs {SETUP_ACTION} with pulumi-cli: true before it" in setup_needed_problems(wf)


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


def test_preview_runs_on_pull_requests_into_the_deploy_branches():
    wf = workflow("preview.yml")
    assert set(wf["on"]) == {"pull_request"}
    assert sorted(wf["on"]["pull_request"]["branches"]) == sorted(["develop", "staging", "main"])


def test_preview_previews_every_stack_and_comments_on_the_pull_request():
    wf = workflow("preview.yml")
    job = wf["jobs"]["preview"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in job["if"]
    assert job["strategy"]["matrix"]["stack"] == STACKS
    assert permissions(wf, job) == {"contents": "read", "id-token": "write", "pull-requests": "write"}
    [(_, step)] = pulumi_commands(job)
    assert step["with"]["command"] == "preview"
    assert step["with"]["stack-name"] == "${{ matrix.stack }}"
    assert truthy(step["with"]["comment-on-pr"])
    assert truthy(step["with"]["diff"])


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
    assert re.search(r'bin/plan diff --stack "\$STACK" --base "origin/\$BASE_REF" > (\S+)', plan["run"])
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
    # The credentials of the update are those of its environment: the azure/login of the setup action
    # reads the environment's variables, and only this job may request an OIDC token.
    [(j, given)] = setup_uses(job)
    assert {key: given[key] for key in AZURE_LOGIN} == AZURE_LOGIN and given["azure-login"] == "true"
    [login] = [s for s in effective_steps(job) if action_of(s) == "azure/login"]
    assert login["with"] == AZURE_LOGIN and login["_origin"] == j
    assert [job_id for job_id, other in wf["jobs"].items() if permissions(wf, other).get("id-token")] == ["deploy"]


# --- traffic-switch.yml --------------------------------------------------------------------------


def test_traffic_switch_inputs_are_the_stacks_and_colors():
    wf = workflow("traffic-switch.yml")
    assert set(wf["on"]) == {"workflow_dispatch"}
    inputs = wf["on"]["workflow_dispatch"]["inputs"]
    assert set(inputs) == {"stack", "color"}
    assert inputs["stack"]["type"] == "choice" and inputs["stack"]["options"] == STACKS
    assert inputs["color"]["type"] == "choice" and inputs["color"]["options"] == COLORS
    assert inputs["stack"]["required"] is True and inputs["color"]["required"] is True


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
    ("stack", "color", "branch"),
    [
        ("dev", "blue", "develop"),
        ("staging", "green", "staging"),
        ("prod", "green", "main"),
        ("qa", "blue", None),
        ("prod", "purple", None),
        ("prod; echo", "blue", None),
        ("", "green", None),
    ],
)
def test_traffic_switch_validates_its_inputs_first(stack, color, branch, tmp_path):
    job = workflow("traffic-switch.yml")["jobs"]["switch"]
    first = steps(job)[0]
    assert "run" in first, "the inputs are validated before anything else runs"
    code, outputs, log = run_step(first, {"inputs.stack": stack, "inputs.color": color}, tmp_path)
    if branch is None:
        assert code != 0, log
    else:
        assert code == 0, log
        assert outputs.get("branch") == branch


def test_traffic_switch_sets_active_color_updates_and_records_a_pull_request():
    job = workflow("traffic-switch.yml")["jobs"]["switch"]
    config_set = [
        (i, s)
        for i, s in enumerate(steps(job))
        if re.search(r'pulumi config set activeColor "\$COLOR" --stack "\$STACK"', s.get("run", ""))
    ]
    assert config_set
    for _, step in config_set:
        assert step["env"]["STACK"] == "${{ inputs.stack }}" and step["env"]["COLOR"] == "${{ inputs.color }}"
    [(up, step)] = pulumi_commands(job)
    assert step["with"]["command"] == "up"
    assert step["with"]["stack-name"] == "${{ inputs.stack }}"
    assert config_set[0][0] < up
    [pr] = step_index(job, "peter-evans/create-pull-request")
    assert pr > up
    given = steps(job)[pr]["with"]
    assert given["add-paths"] == "Pulumi.${{ inputs.stack }}.yaml"
    assert given["base"] == "${{ steps.inputs.outputs.branch }}"


def _git(repo: Path, *args: str) -> str:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(repo.parent),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    proc = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True)
    return proc.stdout.strip()


def _commit(repo: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        _git(repo, "add", name)
    _git(repo, "commit", "-qm", message)
    return _git(repo, "rev-parse", "HEAD")


@pytest.mark.parametrize(
    ("stack", "branch", "deployed_action"),
    [
        ("prod", "main", None),  # a release tag older than the setup action
        ("dev", "develop", "develop's version"),  # a branch with another version of it
    ],
)
def test_traffic_switch_sets_up_with_its_own_action_then_restores_the_deployed_code(
    stack, branch, deployed_action, tmp_path
):
    """The setup action is read from the workspace when its step starts, after the deployed code is checked
    out: the job puts this run's version there for that step only."""
    job = workflow("traffic-switch.yml")["jobs"]["switch"]
    [j] = [i for i, s in enumerate(steps(job)) if is_setup(s)]
    switch_index, switch = find_step(job, r"git checkout --detach")
    before, after = steps(job)[j - 1], steps(job)[j + 1]
    assert switch_index < j - 1

    action = ".github/actions/setup/action.yml"
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _commit(repo, {f"Pulumi.{stack}.yaml": "config: {}\n"}, "first release")
    _git(repo, "tag", "v1.0.0")
    if deployed_action:
        _git(repo, "checkout", "-q", "-b", "develop")
        _commit(repo, {action: deployed_action}, "develop")
        _git(repo, "update-ref", "refs/remotes/origin/develop", "HEAD")
        _git(repo, "checkout", "-q", "main")
    run_sha = _commit(repo, {action: "this run's version"}, "the setup action")
    _git(repo, "update-ref", "refs/remotes/origin/main", "HEAD")

    context = {"inputs.stack": stack, "steps.inputs.outputs.branch": branch}
    runner = {"GITHUB_SHA": run_sha}
    for step in (switch, before):
        code, _, log = run_step(step, context, tmp_path, runner, cwd=repo)
        assert code == 0, log
    assert (repo / action).read_text() == "this run's version"
    code, _, log = run_step(after, context, tmp_path, runner, cwd=repo)
    assert code == 0, log
    if deployed_action:
        assert (repo / action).read_text() == deployed_action
    else:
        assert not (repo / ".github").exists()
    assert _git(repo, "status", "--porcelain") == ""
    assert _git(repo, "rev-parse", "HEAD") != run_sha
