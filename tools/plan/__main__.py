"""Offline plan: render and diff the full desired state of a stack with no cloud account.

    python -m tools.plan render --stack prod [--set KEY=VALUE ...] [--out DIR] [--first-preview]
    python -m tools.plan diff --stack prod --set activeColor=green [--base GITREF] [--json]
    python -m tools.plan render --project bootstrap --stack org

Exit codes: 0 done, 2 the stack configuration was refused (one message), 1 anything else.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from . import diff as plan_diff
from . import engine, render, stackconfig, traffic

PROJECT_DIR = Path(__file__).resolve().parents[2]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.plan", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--stack", required=True, help="dev, staging or prod")
        p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="like pulumi config set --path")
        p.add_argument("--set-secret", action="append", default=[], metavar="KEY=VALUE", help="a secret value")
        p.add_argument("--unset", action="append", default=[], metavar="KEY", help="like pulumi config rm --path")
        p.add_argument(
            "--project",
            type=Path,
            default=Path("."),
            metavar="DIR",
            help="the Pulumi project to render, a folder of the repository with its Pulumi.yaml (default: the root)",
        )
        # The repository's root (another tree for --base); --project is relative to it.
        p.add_argument("--project-dir", type=Path, default=PROJECT_DIR, help=argparse.SUPPRESS)
        # A tree from before the stack files named their secrets provider (--base renders).
        p.add_argument("--tolerate-missing-secrets-provider", action="store_true", help=argparse.SUPPRESS)
        p.add_argument(
            "--no-placeholder-secrets",
            action="store_true",
            help="do not fill required provided secrets with offline placeholders",
        )

    r = sub.add_parser("render", help="render every resource, Kubernetes object and Helm release of a stack")
    common(r)
    r.add_argument("--out", type=Path, default=None, help="write resources.json, manifests/ and helm-releases.yaml")
    r.add_argument("--json", action="store_true", help="print resources.json to stdout instead of a summary")
    r.add_argument(
        "--first-preview",
        action="store_true",
        help="the first `pulumi preview` of a new stack: provider-computed outputs unknown, provided secrets not filled",
    )

    # What a StackReference to this stack reads (tools.plan.references runs it): outputs in the engine's shape.
    o = sub.add_parser("stack-outputs")
    common(o)

    d = sub.add_parser("diff", help="what a change of config (--set) or of code (--base) does to a stack")
    common(d)
    d.add_argument("--base", default=None, metavar="GITREF", help="compare with the same stack at this commit")
    d.add_argument("--json", action="store_true", help="machine-readable output")
    d.add_argument(
        "--traffic", type=Path, default=None, metavar="FILE", help="also write the traffic table (Markdown) to FILE"
    )
    return parser


def _project(args: argparse.Namespace) -> Path:
    """The project's directory: --project, relative to the repository's root."""
    project = args.project if args.project.is_absolute() else args.project_dir / args.project
    if not (project / "Pulumi.yaml").is_file():
        raise stackconfig.StackConfigError(
            f"no Pulumi.yaml in {args.project} (--project names a Pulumi project's folder)"
        )
    return project


def _config(args: argparse.Namespace, *, with_sets: bool = True) -> stackconfig.OfflineConfig:
    split = stackconfig.split_assignment
    return stackconfig.load(
        _project(args),
        args.stack,
        sets=[split(s) for s in args.set] if with_sets else [],
        secret_sets=[split(s) for s in args.set_secret] if with_sets else [],
        unsets=list(args.unset) if with_sets else [],
        require_secrets_provider=not args.tolerate_missing_secrets_provider,
    )


def _render_plan(args: argparse.Namespace, *, with_sets: bool = True) -> engine.Plan:
    cfg = _config(args, with_sets=with_sets)
    first_preview = bool(getattr(args, "first_preview", False))
    return engine.run(
        _project(args),
        cfg,
        # A first preview runs as `pulumi preview` does on a new stack: required provided secrets are not set
        # yet, and the program (in a dry run) must get past them.
        fill_secrets=not (args.no_placeholder_secrets or first_preview),
        preview=first_preview,
        repo_root=args.project_dir,
    )


def _render_at(ref: str, args: argparse.Namespace) -> engine.Plan:
    """Render the stack as it is at a git ref, in a separate process (its own module tree)."""
    with tempfile.TemporaryDirectory(prefix="plan-base-") as tmp:
        tree = Path(tmp) / "tree"
        tree.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(args.project_dir), "archive", "--format=tar", ref],
            capture_output=True,
            check=False,
        )
        if archive.returncode != 0:
            raise stackconfig.StackConfigError(f"cannot read git ref {ref!r}: {archive.stderr.decode().strip()}")
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
        out = Path(tmp) / "out.json"
        cmd = [
            sys.executable,
            "-m",
            "tools.plan",
            "render",
            "--stack",
            args.stack,
            "--json",
            "--project-dir",
            str(tree),
            "--project",
            str(args.project),
            "--tolerate-missing-secrets-provider",
        ]
        if args.no_placeholder_secrets:
            cmd.append("--no-placeholder-secrets")
        with out.open("w") as handle:
            proc = subprocess.run(cmd, cwd=PROJECT_DIR, stdout=handle, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"rendering {args.stack} at {ref} failed (exit {proc.returncode})")
        return engine.Plan.from_dict(json.loads(out.read_text()))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "stack-outputs":
            values, secret = engine.stack_outputs(_project(args), _config(args), repo_root=args.project_dir)
            print(json.dumps({"outputs": values, "secretOutputNames": sorted(secret)}, sort_keys=True))
            return 0
        if args.command == "render":
            plan = _render_plan(args)
            if args.out:
                render.write(plan, args.out)
            if args.json:
                print(plan.to_json())
            else:
                print(render.summary(plan))
                if args.out:
                    print(f"written to {args.out}")
            return 0
        head = _render_plan(args)
        if args.base:
            base = _render_at(args.base, args)
        else:
            if not (args.set or args.set_secret or args.unset):
                print("diff needs --set/--unset (a config change) or --base GITREF (a code change)", file=sys.stderr)
                return 1
            base = _render_plan(args, with_sets=False)
        result = plan_diff.diff(base, head)
        if args.traffic:
            Path(args.traffic).write_text(traffic.markdown(result.traffic))
        if args.json:
            print(json.dumps(result.to_dict(), indent=2, sort_keys=True))
        else:
            print(plan_diff.format_text(result))
        return 0
    except engine.ProgramConfigError as err:
        print(str(err), file=sys.stderr)
        return 2
    except stackconfig.StackConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
