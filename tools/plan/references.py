"""Stack references, resolved offline: render the referenced stack of a project in this repository.

``pulumi.StackReference("<org>/<project>/<stack>")`` reads another stack's outputs from the backend. Offline,
the project is the directory of this repository whose ``Pulumi.yaml`` has that ``name``; its stack is
rendered (as deployed: a normal render, not a preview, since a referenced stack exists before its readers)
in a separate process, which has its own Pulumi runtime state, and the outputs come back in the engine's
shape: values plus the names of the secret ones (pulumi ``pkg/resource/deploy/builtins.go``,
``readStackReference``: ``outputs`` and ``secretOutputNames``). Each stack is rendered once per process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from .mocks import StackReferenceError

TOOL_ROOT = Path(__file__).resolve().parents[2]
_SKIP = {"venv", ".venv", "node_modules", ".git", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
_CACHE: dict[tuple[str, str, str], tuple[dict[str, Any], set[str]]] = {}


def repo_root_of(project_dir: Path) -> Path:
    """The repository holding ``project_dir``: the nearest directory with ``.git``, else ``project_dir``."""
    project_dir = project_dir.resolve()
    for candidate in (project_dir, *project_dir.parents):
        if (candidate / ".git").exists():
            return candidate
    return project_dir


def projects(repo_root: Path) -> dict[str, Path]:
    """Pulumi project name -> directory, for the repository root and its folders two levels down."""
    found: dict[str, Path] = {}
    candidates = [repo_root / "Pulumi.yaml"]
    for depth in ("*/Pulumi.yaml", "*/*/Pulumi.yaml"):
        candidates += sorted(repo_root.glob(depth))
    for path in candidates:
        relative = path.relative_to(repo_root).parts
        if not path.is_file() or any(part in _SKIP or part.startswith(".") for part in relative):
            continue
        try:
            doc = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError:
            continue
        name = doc.get("name") if isinstance(doc, dict) else None
        if isinstance(name, str) and name not in found:
            found[name] = path.parent
    return found


def split_reference(reference: str, current_project: str) -> tuple[str, str]:
    """(project, stack) of ``org/project/stack``, ``project/stack`` or ``stack`` (this project)."""
    parts = reference.split("/")
    if len(parts) == 3:
        return parts[1], parts[2]
    if len(parts) == 2:
        return parts[0], parts[1]
    return current_project, reference


class Resolver:
    """Answers stack references for one run: (outputs, names of the secret outputs)."""

    def __init__(self, repo_root: Path, stack: str, project: str = "") -> None:
        self.repo_root = repo_root.resolve()
        self.stack = stack
        self.project = project

    def _error(self, reference: str, problem: str) -> StackReferenceError:
        return StackReferenceError(f"Invalid stack reference {reference!r} in stack {self.stack!r}: {problem}.")

    def __call__(self, reference: str) -> tuple[dict[str, Any], set[str]]:
        project, stack = split_reference(reference, self.project)
        found = projects(self.repo_root)
        if project not in found:
            known = ", ".join(sorted(found)) or "none"
            raise self._error(reference, f"no Pulumi project named {project!r} in this repository (projects: {known})")
        directory = found[project]
        if not (directory / f"Pulumi.{stack}.yaml").is_file():
            stacks = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in directory.glob("Pulumi.*.yaml"))
            where = directory.relative_to(self.repo_root).as_posix() or "."
            raise self._error(
                reference,
                f"project {project!r} ({where}) has no stack file Pulumi.{stack}.yaml (stacks: {', '.join(stacks) or 'none'})",
            )
        key = (str(self.repo_root), str(directory), stack)
        if key not in _CACHE:
            try:
                _CACHE[key] = RENDERER(self.repo_root, directory, stack)
            except RenderError as err:
                raise self._error(reference, f"rendering it failed: {err}") from None
        outputs, secret = _CACHE[key]
        return json.loads(json.dumps(outputs)), set(secret)


class RenderError(Exception):
    """The referenced stack did not render (its last line of errors)."""


def render_in_subprocess(repo_root: Path, directory: Path, stack: str) -> tuple[dict[str, Any], set[str]]:
    """Render a referenced stack's outputs in a separate process: a run cannot nest in a running program."""
    cmd = [
        sys.executable,
        "-m",
        "tools.plan",
        "stack-outputs",
        "--stack",
        stack,
        "--project-dir",
        str(repo_root),
        "--project",
        str(directory),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_CONFIG")}
    done = subprocess.run(cmd, cwd=TOOL_ROOT, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        raise RenderError(lines[-1] if lines else f"exit {done.returncode}")
    doc = json.loads(done.stdout)
    return doc["outputs"], set(doc["secretOutputNames"])


# How a referenced stack is rendered: (repository root, project directory, stack) -> (outputs, secret names).
# A test session may share one rendering between its processes.
RENDERER: Callable[[Path, Path, str], tuple[dict[str, Any], set[str]]] = render_in_subprocess
