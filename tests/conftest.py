"""One shared fixture: run the whole program under Pulumi's mock engine.

Mock and config state is process-global in the Pulumi SDK, so it is set inside
each run (``tools.plan.engine.run``), never at import time. Runs are pure
functions of the stack configuration (the stack files plus ``--set``-style
changes): within one test session each distinct run happens once, and the
processes of a parallel session share the results through files.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tools.plan import engine, references, stackconfig

PROJECT_DIR = Path(__file__).resolve().parents[1]
STACKS = ("dev", "staging", "prod")
# The repository's other Pulumi projects and their stacks: (folder, stack).
OTHER_PROJECT_STACKS = tuple(
    (path.parent.name, path.name[len("Pulumi.") : -len(".yaml")])
    for path in sorted(PROJECT_DIR.glob("*/Pulumi.*.yaml"))
    if (path.parent / "Pulumi.yaml").is_file() and path.parent.name not in ("policy", "venv")
)

# A run allocates hundreds of thousands of short-lived objects next to the large, permanent module graph
# of the cloud SDKs: rarer young collections, and a frozen heap after the first run, roughly halve it.
gc.set_threshold(50_000, 20, 100)

# Results of this process: a run's outcome as JSON text, by request and by configuration.
_by_request: dict[tuple, str] = {}
_by_config: dict[str, str] = {}
_shared_dir: Path | None = None
_frozen = False
# The real run, even while a test stands cached_run in for it.
_engine_run = engine.run


@pytest.fixture(scope="session", autouse=True)
def _share_runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Files under the session's base directory, common to the processes of a parallel session."""
    global _shared_dir
    base = tmp_path_factory.getbasetemp()
    worker = getattr(request.config, "workerinput", None)
    # A parallel session gives each process its own directory inside the session's directory.
    if worker is not None:
        base = base.parent
    _shared_dir = base / "program-runs"
    _shared_dir.mkdir(exist_ok=True)
    # A stack reference renders the referenced stack in a process of its own: once per session, not per process.
    references.RENDERER = _shared_reference
    # The environment stacks read the bootstrap's outputs. Rendered here, in this process and before any
    # program runs, they cost one run instead of a new interpreter (a run cannot nest in another one).
    for folder, stack in OTHER_PROJECT_STACKS:
        directory = PROJECT_DIR / folder
        with contextlib.suppress(Exception):
            _shared_reference(
                PROJECT_DIR,
                directory,
                stack,
                render=lambda d=directory, s=stack: engine.stack_outputs(
                    d, stackconfig.load(d, s), repo_root=PROJECT_DIR
                ),
            )
    if worker is not None and any("plan" in getattr(item, "fixturenames", ()) for item in request.session.items):
        # Nearly every test reads the three stacks as they are: each process starts with its share of them,
        # instead of all starting with the same one and waiting for whichever began it first.
        index, count = int(worker["workerid"].removeprefix("gw")), int(worker["workercount"])
        for stack in STACKS[index::count]:
            # A failing stack is for the tests that read it to report.
            with contextlib.suppress(Exception):
                run_program(stack)
    yield
    references.RENDERER = references.render_in_subprocess
    _shared_dir = None


def _shared_reference(
    repo_root: Path, directory: Path, stack: str, render: Callable[[], tuple[dict, set[str]]] | None = None
) -> tuple[dict, set[str]]:
    """A referenced stack's outputs, rendered by the first process of the session that needs them
    (``render``, or in a process of its own)."""
    render = render or (lambda: references.render_in_subprocess(repo_root, directory, stack))
    if _shared_dir is None:
        return render()
    key = hashlib.sha256(json.dumps([str(repo_root), str(directory), stack]).encode()).hexdigest()[:32]
    done = _shared_dir / f"reference-{key}.json"
    with open(_shared_dir / f"reference-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            outputs, secret = render()
            partial = done.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(json.dumps({"outputs": outputs, "secret": sorted(secret)}))
            partial.replace(done)
    doc = json.loads(done.read_text())
    return doc["outputs"], set(doc["secret"])


def _config_key(project_dir: Path, cfg: stackconfig.OfflineConfig, fill_secrets: bool, preview: bool) -> str:
    """Everything a run reads: the tree, the stack and its whole configuration, and whether it previews."""
    doc = {
        "projectDir": str(project_dir.resolve()),
        "project": cfg.project,
        "stack": cfg.stack,
        "config": cfg.encoded(),
        "secretKeys": sorted(cfg.secret_keys),
        "placeholders": cfg.placeholders,
        "fillSecrets": fill_secrets,
        "preview": preview,
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:32]


def _render(project_dir: Path, cfg: stackconfig.OfflineConfig, fill_secrets: bool, preview: bool) -> str:
    global _frozen
    try:
        plan = _engine_run(project_dir, cfg, fill_secrets=fill_secrets, preview=preview, repo_root=PROJECT_DIR)
        text = json.dumps({"plan": plan.to_dict()})
    except engine.ProgramConfigError as err:
        text = json.dumps({"configError": str(err)})
    if not _frozen:
        # The first run imported the SDK modules the program uses: later collections can skip them.
        _frozen = True
        gc.collect()
        gc.freeze()
    return text


def _outcome(project_dir: Path, cfg: stackconfig.OfflineConfig, fill_secrets: bool, preview: bool = False) -> str:
    """The run's outcome as JSON text: rendered here, or read from the process that rendered it first."""
    key = _config_key(project_dir, cfg, fill_secrets, preview)
    if key in _by_config:
        return _by_config[key]
    if _shared_dir is None:
        text = _render(project_dir, cfg, fill_secrets, preview)
    else:
        done = _shared_dir / f"{key}.json"
        with open(_shared_dir / f"{key}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if done.exists():
                text = done.read_text()
            else:
                text = _render(project_dir, cfg, fill_secrets, preview)
                partial = done.with_suffix(f".{os.getpid()}.tmp")
                partial.write_text(text)
                partial.replace(done)
    _by_config[key] = text
    return text


def _plan(text: str) -> engine.Plan:
    """A fresh copy of a run's plan (tests change what they are given); a refused configuration raises."""
    doc = json.loads(text)
    if "configError" in doc:
        raise engine.ProgramConfigError(doc["configError"])
    return engine.Plan.from_dict(doc["plan"])


def cached_run(
    project_dir: Path,
    cfg: stackconfig.OfflineConfig,
    *,
    fill_secrets: bool = True,
    preview: bool = False,
    repo_root: Path | None = None,
) -> engine.Plan:
    """``engine.run`` through this session's results: for the plan tool's own tests (repository: this one)."""
    assert repo_root in (None, PROJECT_DIR), repo_root
    return _plan(_outcome(project_dir, cfg, fill_secrets, preview))


def run_program(
    stack: str,
    sets: dict[str, str] | None = None,
    *,
    unset: tuple[str, ...] = (),
    secret_sets: dict[str, str] | None = None,
    fill_secrets: bool = True,
    first_preview: bool = False,
    project: str = ".",
) -> engine.Plan:
    """Render ``stack`` with ``--set``-style changes; raises engine.ProgramConfigError on bad config.

    ``first_preview``: the create preview of a new stack (``bin/plan render --first-preview``): a dry run,
    required provided secrets not filled. ``project``: the project's folder in the repository.
    """
    fill_secrets = fill_secrets and not first_preview
    key = (
        stack,
        tuple(sorted((sets or {}).items())),
        unset,
        tuple(sorted((secret_sets or {}).items())),
        fill_secrets,
        first_preview,
        project,
    )
    if key not in _by_request:
        project_dir = (PROJECT_DIR / project).resolve()
        cfg = stackconfig.load(
            project_dir,
            stack,
            sets=list((sets or {}).items()),
            secret_sets=list((secret_sets or {}).items()),
            unsets=list(unset),
        )
        _by_request[key] = _outcome(project_dir, cfg, fill_secrets, first_preview)
    return _plan(_by_request[key])


@pytest.fixture
def plan() -> Callable[..., engine.Plan]:
    """``plan("prod", {"activeColor": "green"})`` runs the program and returns what it declared."""
    return run_program


@pytest.fixture(params=STACKS)
def stack(request) -> str:
    return request.param
