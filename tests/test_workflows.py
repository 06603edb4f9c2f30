"""The GitHub Actions workflows: valid against the workflow schema, and wired the way the stacks deploy.

ci.yml runs bin/test; preview.yml plans every stack offline (forks included) and previews it with
Pulumi; deploy.yml maps develop -> dev, staging -> staging and release tags -> prod; traffic-switch.yml
flips activeColor of one stack. Every job that runs Pulumi logs in to Azure by OIDC with the identity
named by repository/environment variables, runs the policy pack, and targets only dev, staging or prod.

The generic checks return a list of problems; each is also run against a deliberately broken copy of a
workflow, so none of them can pass by checking nothing.
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
EXPRESSION = re.compile(r"^\$\{\{\s*(.+?)\s*\}\}$")
PINNED_REF = re.compile(r"^(v\d+(\.\d+){0,2}|[0-9a-f]{40})$")


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


# --- helpers -------------------------------------------------------------------------------------


def action_of(step: dict) -> str | None:
    """owner/repo[/path] of a `uses:` step, lower-cased; None for a `run:` step."""
    uses = step.get("uses")
    return uses.split("@", 1)[0].lower() if uses else None


def steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def step_index(job: dict, action: str) -> list[int]:
    return [i for i, step in enumerate(steps(job)) if action_of(step) == action]


def pulumi_commands(job: dict) -> list[tuple[int, dict]]:
    """The pulumi/actions steps of a job that run a command (without one the action only installs the CLI)."""
    return [
        (i, s)
        for i, s in enumerate(steps(job))
        if action_of(s) == "pulumi/actions" and s.get("with", {}).get("command")
    ]


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


def run_step(step: dict, context: dict[str, str], tmp_path: Path) -> tuple[int, dict[str, str], str]:
    """Run a `run:` step the way a Linux runner does (bash -e), its env expressions taken from ``context``.

    Returns (exit code, what it wrote to $GITHUB_OUTPUT, stdout + stderr).
    """
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    for key, value in step.get("env", {}).items():
        match = EXPRESSION.match(str(value))
        env[key] = context[match.group(1)] if match else str(value)
    output_file = tmp_path / "github_output"
    output_file.write_text("")
    env["GITHUB_OUTPUT"] = str(output_file)
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-e", "-c", step["run"]],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    outputs = dict(line.split("=", 1) for line in output_file.read_text().splitlines() if "=" in line)
    return proc.returncode, outputs, proc.stdout + proc.stderr


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


def pulumi_job_problems(wf: dict, tmp_path: Path) -> tuple[int, list[str]]:
    """Every job running pulumi/actions: OIDC login with variables, kubelogin, deps, policy pack, stacks.

    Returns (number of Pulumi commands checked, problems).
    """
    problems: list[str] = []
    checked = 0
    cli_version = requirement_pin("pulumi")
    for job_id, job in wf["jobs"].items():
        if not step_index(job, "pulumi/actions"):
            continue
        where = f"job {job_id}"
        if permissions(wf, job).get("id-token") != "write":
            problems.append(f"{where}: no id-token: write permission")
        logins = step_index(job, "azure/login")
        if not logins:
            problems.append(f"{where}: no azure/login step")
        for i in logins:
            given = steps(job)[i].get("with", {})
            if "creds" in given or any("secrets." in str(v) for v in given.values()):
                problems.append(f"{where}: azure/login uses stored credentials")
            for key, expected in AZURE_LOGIN.items():
                if given.get(key) != expected:
                    problems.append(f"{where}: azure/login {key} is {given.get(key)!r}, not {expected}")
        kubelogin = step_index(job, "azure/use-kubelogin")
        deps = [
            i
            for i, s in enumerate(steps(job))
            if re.search(r"venv/bin/python -m pip install .*-r requirements\.txt -c constraints\.txt", s.get("run", ""))
        ]
        for i, step in pulumi_commands(job):
            checked += 1
            given = step.get("with", {})
            here = f"{where} step {i} (pulumi {given.get('command')})"
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
            if str(given.get("pulumi-version")) != cli_version:
                problems.append(
                    f"{here}: pulumi-version {given.get('pulumi-version')!r} is not the SDK's {cli_version}"
                )
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
    if "AZURE_CREDENTIALS" in str(wf):
        problems.append("the workflow refers to AZURE_CREDENTIALS")
    return checked, problems


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


def _check_jsonschema(files: list[Path]) -> subprocess.CompletedProcess:
    # A proxy that refuses every connection: the vendored schema must be enough (offline CI).
    dead = "http://127.0.0.1:9"
    env = {**os.environ, "HTTP_PROXY": dead, "HTTPS_PROXY": dead, "http_proxy": dead, "https_proxy": dead}
    env.pop("NO_PROXY", None)
    env.pop("no_proxy", None)
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", *map(str, files)],
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


def _drop_id_token(wf):
    wf["jobs"]["preview"]["permissions"].pop("id-token")


def _secret_client_id(wf):
    login = steps(wf["jobs"]["preview"])[step_index(wf["jobs"]["preview"], "azure/login")[0]]
    login["with"]["client-id"] = "${{ secrets.AZURE_CLIENT_ID }}"


def _stored_credentials(wf):
    login = steps(wf["jobs"]["preview"])[step_index(wf["jobs"]["preview"], "azure/login")[0]]
    login["with"] = {"creds": "${{ secrets.AZURE_CREDENTIALS }}"}


def _no_policy_pack(wf):
    pulumi_commands(wf["jobs"]["preview"])[0][1]["with"].pop("policyPacks")


def _extra_stack(wf):
    wf["jobs"]["preview"]["strategy"]["matrix"]["stack"].append("qa")


def _no_oidc_env(wf):
    wf["jobs"]["preview"]["env"].pop("ARM_USE_OIDC")


def _no_kubelogin(wf):
    job = wf["jobs"]["preview"]
    job["steps"] = [s for s in steps(job) if action_of(s) != "azure/use-kubelogin"]


def _login_after_pulumi(wf):
    job = wf["jobs"]["preview"]
    login = job["steps"].pop(step_index(job, "azure/login")[0])
    job["steps"].append(login)


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
        _login_after_pulumi,
    ],
)
def test_the_pulumi_job_check_catches(breakage, tmp_path):
    wf = workflow("preview.yml")
    breakage(wf)
    _, problems = pulumi_job_problems(wf, tmp_path)
    assert problems


# --- ci.yml --------------------------------------------------------------------------------------


def test_ci_runs_bin_test_on_every_push_and_pull_request():
    wf = workflow("ci.yml")
    assert set(wf["on"]) == {"push", "pull_request"}
    push = wf["on"]["push"] or {}
    assert push.get("branches", ["**"]) == ["**"]
    assert not {"branches-ignore", "paths", "paths-ignore", "tags"} & set(push)
    assert not (wf["on"]["pull_request"] or {})
    assert wf["permissions"] == {"contents": "read"}
    [job] = wf["jobs"].values()
    assert "permissions" not in job
    [setup] = [s for s in steps(job) if action_of(s) == "actions/setup-python"]
    assert str(setup["with"]["python-version"]) == "3.11"
    assert setup["with"]["cache"] == "pip"
    i, _ = find_step(job, r"^bin/test\s*$")
    assert step_index(job, "actions/checkout") and step_index(job, "actions/checkout")[0] < i


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
    assert not step_index(job, "azure/login") and not step_index(job, "pulumi/actions")
    assert not any("secrets." in str(v) for s in steps(job) for v in s.get("env", {}).values())
    [checkout] = [s for s in steps(job) if action_of(s) == "actions/checkout"]
    assert checkout["with"]["fetch-depth"] == 0
    i, plan = find_step(job, r"bin/plan diff --stack")
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
