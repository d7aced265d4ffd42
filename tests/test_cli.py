"""`rulebot` as users run it: a real process, real exit codes, every output format."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RULEBOT = [sys.executable, "-m", "engine.cli"]


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([*RULEBOT, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture()
def broken(tmp_path) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    text = (rules / "signals.yaml").read_text(encoding="utf-8")
    (rules / "signals.yaml").write_text(text.replace("direction_by: votes", "direction_by: vote"), encoding="utf-8")
    return rules


def test_valid_rules_exit_0_and_print_the_version():
    done = run("validate", "rules/")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "valid, version rs-" in done.stdout


def test_invalid_rules_exit_1_with_file_line_col_code(broken):
    done = run("validate", str(broken))
    assert done.returncode == 1
    first = done.stdout.splitlines()[0]
    assert first.startswith(f"{broken}/signals.yaml:141:17: RB204 error: ")
    assert "did you mean 'votes'?" in first


def test_json_format_is_a_list_of_findings(broken):
    done = run("validate", str(broken), "--format", "json")
    assert done.returncode == 1
    findings = json.loads(done.stdout)
    assert findings == [
        {
            "code": "RB204",
            "severity": "error",
            "file": f"{broken}/signals.yaml",
            "line": 141,
            "col": 17,
            "path": "/voting/direction_by",
            "message": '"vote" is not allowed here; allowed: votes, weight',
            "suggestion": "did you mean 'votes'?",
        }
    ]


def test_github_format_emits_annotations(broken):
    done = run("validate", str(broken), "--format", "github")
    assert done.stdout.splitlines() == [
        f"::error file={broken}/signals.yaml,line=141,col=17,title=RB204::"
        "\"vote\" is not allowed here; allowed: votes, weight (did you mean 'votes'?)"
    ]


def test_strict_turns_warnings_into_failure(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    (rules / "drafts").mkdir()
    (rules / "drafts" / "old.yaml").write_text("kind: signals\n", encoding="utf-8")
    assert run("validate", str(rules)).returncode == 0
    done = run("validate", str(rules), "--strict")
    assert done.returncode == 1 and "RB507 warning" in done.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "no/such/dir"],
        ["validate", "--format", "xml"],
        ["validate", "--profile", "demo"],
        ["frobnicate"],
        ["schema", "signal"],
    ],
)
def test_usage_errors_exit_2(args):
    done = run(*args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def test_profile_option_validates_one_profile():
    done = run("validate", "rules/", "--profile", "live")
    assert done.returncode == 0 and "profiles: live;" in done.stdout


def test_schema_export_writes_every_schema_and_the_vocabulary(tmp_path):
    done = run("schema", "--out", str(tmp_path / "out"))
    assert done.returncode == 0
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert "signals.schema.json" in names and "vocabulary.json" in names
    vocabulary = json.loads((tmp_path / "out" / "vocabulary.json").read_text())
    assert vocabulary["contexts"]["requirement"]["aligned_count"]["unit"] == "count"


def test_schema_of_one_kind_prints_it():
    done = run("schema", "exits")
    assert done.returncode == 0 and json.loads(done.stdout)["x-kind"] == "exits"


def test_validate_does_not_import_numpy_or_pandas():
    code = (
        "import sys, engine.cli\nfrom engine.language.compiler import compile_ruleset\n"
        "compile_ruleset('rules')\nprint(sorted(m for m in ('numpy', 'pandas') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert done.stdout.strip() == "[]", done.stderr


def test_only_the_composition_root_imports_adapters():
    """engine works against its ports; engine/cli/compose.py alone wires real adapters to it."""
    import ast

    importers = []
    for path in sorted((ROOT / "engine").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            if any(n == "adapters" or n.startswith("adapters.") for n in names):
                importers.append(path.relative_to(ROOT).as_posix())
    assert sorted(set(importers)) == ["engine/cli/compose.py"]


def test_the_root_group_carries_every_command_and_the_log_options():
    from engine.cli import main

    assert sorted(main.commands) == [
        "diff", "dry-run", "explain", "halt", "learn", "paper", "record", "reduce", "resume", "rollback", "run", "schema",
        "snapshots", "status", "sweep", "validate", "venue", "versions",
    ]  # fmt: skip
    assert sorted(main.commands["snapshots"].commands) == ["build", "convert", "from-freqtrade", "info"]
    assert sorted(main.commands["venue"].commands) == ["check"]
    bad = run("--log-level", "loud", "validate", "rules/")
    assert bad.returncode == 2 and "--log-level" in bad.stderr


def test_a_command_imports_only_its_own_module():
    """`rulebot explain` must not pay for the other commands (paper, dry-run, the snapshot
    builder, the HTML report), the dry-run's runner nor pandas: start-up is most of its time."""
    code = (
        "import sys\n"
        "from engine.cli.app import main\n"
        "main(['explain', 'data/sample/sample.snapshots.parquet', '--symbol', 'BTCUSDT'], standalone_mode=False)\n"
        "heavy = ['engine.cli.paper', 'engine.cli.dryrun', 'engine.cli.snapshots', 'engine.cli.validate',\n"
        "         'engine.replay.dryrun', 'engine.trading.runner',\n"
        "         'engine.report.html', 'pandas', 'jinja2', 'matplotlib', 'httpx']\n"
        "print('LOADED', [m for m in heavy if m in sys.modules])\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "BTCUSDT" in done.stdout  # the decision was shown
    assert done.stdout.strip().splitlines()[-1] == "LOADED []"
