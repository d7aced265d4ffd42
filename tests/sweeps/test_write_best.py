"""`rulebot sweep --write-best`, end to end as real CLI processes: the best variant becomes
one learned overlay authored ``sweep:<name>`` (its value, its base version, `rulebot diff`
against OUT/base-rules, the audit line); the rules as they are is nothing to write; a value
beyond ``max_step``, a path without ``learn`` bounds or a value that is not a number is
refused; the promotion gate can reject it; with walk-forward the out-of-sample best is the
one written.

Every test writes into a copy of rules/ (never the repository's). The sweeps are short
(``--to`` two days in); the one most tests need is run once per module and reused through
the resume feature: the same ``--out`` and identical inputs (the rules' version, not their
folder) run nothing again.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.language.compiler import compile_ruleset

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample" / "sample.snapshots.parquet"
TO = "2025-05-21T08:00:00Z"
TARGET = "exits.tiers.profit_target.targets.0.pnl_pct"  # value 2.0, learn {min 1.0, max 5.0, max_step 0.25}
STOP = "exits.tiers.stop_loss.loss_pct"  # value 2.5, no `learn` bounds
FLAG = "exits.tiers.mtf_alignment.exit_on_momentum_reversal"  # true: a boolean, not a number
CURRENT = 2.0
MAX_STEP = 0.25


def spec_text(name: str, path: str, values: str, *, walk_forward: str = "") -> str:
    walk = f"walk_forward: {walk_forward}\n" if walk_forward else ""
    return (
        f"kind: sweep\nname: {name}\nmetric: {{name: net_pnl_pct, goal: max}}\nsearch: {{method: grid}}\n{walk}"
        f"parameters:\n  - {{path: {path}, values: {values}}}\n"
    )


def write_spec(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sweep.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def rulebot(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "engine.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def sweep(spec: Path, rules: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return rulebot(
        "sweep", str(spec), str(SAMPLE), "--rules", str(rules), "--out", str(out), "--to", TO, "--workers", "2",
        *extra, cwd=out.parent,
    )  # fmt: skip


def write_best(spec: Path, rules: Path, out: Path, logs: Path) -> subprocess.CompletedProcess:
    return sweep(spec, rules, out, "--write-best", "--logs", str(logs))


def ranking(out: Path) -> list[dict[str, str]]:
    with open(out / "ranking.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def row_ranked(out: Path, column: str, position: int = 1) -> dict[str, str]:
    rows = [r for r in ranking(out) if r[column] == str(position)]
    assert len(rows) == 1, ranking(out)
    return rows[0]


def learned(rules: Path) -> list[str]:
    """What learned/ holds (the repository's .gitkeep included: a staged hidden file left behind shows too)."""
    return sorted(p.name for p in (rules / "learned").iterdir())


def audit(logs: Path) -> list[dict[str, Any]]:
    path = logs / "learning_audit.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def version_of(rules: Path) -> str:
    result = compile_ruleset(str(rules))
    assert result.ok and result.version, [d.message for d in result.diagnostics if d.is_error]
    return result.version


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """rules/ copied once: every test copies this copy, so all see one version even if rules/ is edited meanwhile."""
    rules = tmp_path_factory.mktemp("pristine") / "rules"
    shutil.copytree(ROOT / "rules", rules)
    assert learned(rules) == [".gitkeep"]
    return rules


@pytest.fixture
def rules(pristine: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "rules"
    shutil.copytree(pristine, copy)
    return copy


@pytest.fixture(scope="module")
def swept(pristine: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(spec, OUT) of the target sweep [1.75, 2.0, 2.25], run once without --write-best."""
    folder = tmp_path_factory.mktemp("swept")
    spec = write_spec(folder, spec_text("target", TARGET, "[1.75, 2.0, 2.25]"))
    out = folder / "out"
    done = sweep(spec, pristine, out)
    assert done.returncode == 0, done.stderr
    assert "3 to run" in done.stderr
    return spec, out


def test_the_best_variant_becomes_one_learned_overlay(swept, rules, tmp_path):
    spec, out = swept
    base = version_of(rules)
    logs = tmp_path / "logs"
    done = write_best(spec, rules, out, logs)
    assert done.returncode == 0, done.stderr
    assert "3 task(s) already in" in done.stderr and "0 to run" in done.stderr  # resumed: nothing replayed again
    best = row_ranked(out, "rank")
    value = float(best[TARGET])
    assert value != CURRENT and abs(value - CURRENT) <= MAX_STEP, f"the window's best must move {TARGET}: {best}"

    name = "0001-sweep-target.yaml"
    assert learned(rules) == [".gitkeep", name]
    assert f"--write-best: {best['variant']} written as {rules}/learned/{name}" in done.stdout
    document = yaml.safe_load((rules / "learned" / name).read_text(encoding="utf-8"))
    assert document["kind"] == "learned"
    assert document["learner"] == "sweep:target"
    assert document["base_version"] == base
    assert document["values"] == {TARGET: value}
    provenance = document["provenance"]
    assert provenance["counts"] == {"variants": 3}
    assert provenance["metrics"]["net_pnl_pct"] == pytest.approx(float(best["net_pnl_pct"]))
    assert provenance["data_to"] == TO
    assert best["variant"] in provenance["message"]

    checked = rulebot("validate", str(rules), cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    after = version_of(rules)
    assert after != base and after in checked.stdout

    before = out / "base-rules"
    assert version_of(before) == base and learned(before) == []  # the rules as they were (hidden files not copied)
    shown = rulebot("diff", str(before), str(rules), "--format", "json", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    changes = json.loads(shown.stdout)["changes"]
    assert [(c["path"], c["old"], c["new"], c["author"]) for c in changes] == [(TARGET, CURRENT, value, "sweep:target")]
    text = rulebot("diff", str(before), str(rules), cwd=tmp_path)
    assert text.returncode == 0 and TARGET in text.stdout and "[sweep:target]" in text.stdout, text.stdout

    [line] = audit(logs)
    assert (line["event"], line["status"], line["learner"], line["file"]) == (
        "write", "applied", "sweep:target", f"learned/{name}",
    )  # fmt: skip
    assert (line["base_version"], line["version"]) == (base, after)
    assert line["changes"] == [{"path": TARGET, "old": CURRENT, "new": value}]


def test_the_rules_as_they_are_is_nothing_to_write(rules, tmp_path):
    spec = write_spec(tmp_path, spec_text("same", TARGET, "[1.75, 2.0]"))
    out, logs = tmp_path / "out", tmp_path / "logs"
    done = write_best(spec, rules, out, logs)
    assert done.returncode == 0, done.stderr
    best = row_ranked(out, "rank")
    assert float(best[TARGET]) == CURRENT, f"this window's best must be the current value: {ranking(out)}"
    assert f"the rules as they are ({best['variant']}) do as well as the best variant" in done.stdout
    assert "nothing to write" in done.stdout
    assert learned(rules) == [".gitkeep"]
    assert not (out / "base-rules").exists()
    assert audit(logs) == []


def test_a_best_value_beyond_max_step_is_refused(rules, tmp_path):
    spec = write_spec(tmp_path, spec_text("far", TARGET, "[2.5, 3.0]"))  # both inside min … max, beyond max_step
    out, logs = tmp_path / "out", tmp_path / "logs"
    done = write_best(spec, rules, out, logs)
    assert done.returncode == 1, done.stdout + done.stderr
    best = row_ranked(out, "rank")
    value = float(best[TARGET])
    assert f"--write-best: {best['variant']} refused (RB528:" in done.stderr
    assert f"moving 2 → {value:g} (" in done.stderr and "exceeds max_step 0.25" in done.stderr
    assert "nothing written" in done.stderr
    assert learned(rules) == [".gitkeep"]
    assert not (out / "base-rules").exists()
    [line] = audit(logs)  # refused, and audited as a learner's refusal is
    assert (line["status"], line["code"], line["learner"]) == ("refused", "RB528", "sweep:far")


def test_the_promotion_gate_can_reject_the_best(swept, rules, tmp_path):
    text = (rules / "learning.yaml").read_text(encoding="utf-8")
    assert "min_improvement_pct: 0.0 " in text
    raised = text.replace("min_improvement_pct: 0.0 ", "min_improvement_pct: 50.0 ")  # 50 points better, or no write
    (rules / "learning.yaml").write_text(raised, encoding="utf-8")
    spec, shared = swept  # the same spec; another rules version, so a sweep of its own
    out, logs = tmp_path / "out", tmp_path / "logs"
    done = write_best(spec, rules, out, logs)
    assert done.returncode == 1, done.stdout + done.stderr
    best = row_ranked(out, "rank")
    assert best[TARGET] == row_ranked(shared, "rank")[TARGET]  # the variant written without the higher bar
    assert f"--write-best: {best['variant']} rejected by the promotion gate:" in done.stderr
    assert "< the required +50.0000; the live version stays" in done.stderr
    assert learned(rules) == [".gitkeep"]
    assert not (out / "base-rules").exists()
    [line] = audit(logs)  # the rejection and the gate's numbers, as a learner's cycle line keeps them
    assert (line["event"], line["status"], line["learner"]) == ("promotion", "rejected", "sweep:target")
    assert line["values"] == {TARGET: float(best[TARGET])} and line["base_version"] == version_of(rules)
    assert line["promotion"]["promoted"] is False and line["promotion"]["min_improvement_pct"] == 50.0


@pytest.mark.parametrize(
    "name,path,values,why",
    [
        ("stops", STOP, "[2.0, 3.0]", f"refused (RB528: '{STOP}': not a learnable value"),
        (
            "flag",
            FLAG,
            "[false]",
            f"{FLAG} is not a number or a duration, and only those are learnable; nothing written",
        ),
    ],
    ids=["no-learn-bounds", "not-a-number"],
)
def test_a_value_that_cannot_be_learned_is_refused(rules, tmp_path, name, path, values, why):
    spec = write_spec(tmp_path, spec_text(name, path, values))
    out, logs = tmp_path / "out", tmp_path / "logs"
    done = write_best(spec, rules, out, logs)
    assert done.returncode == 1, done.stdout + done.stderr
    best = row_ranked(out, "rank")  # it replayed: only the write is refused
    assert f"--write-best: {best['variant']}" in done.stderr and why in done.stderr, done.stderr
    assert learned(rules) == [".gitkeep"]
    assert not (out / "base-rules").exists()


def test_with_walk_forward_the_out_of_sample_best_is_written(rules, tmp_path):
    text = spec_text("target_wf", TARGET, "[1.75, 2.0, 2.25]", walk_forward="{steps: 2, warmup: 1d}")
    spec = write_spec(tmp_path, text)
    out, logs = tmp_path / "out", tmp_path / "logs"
    done = write_best(spec, rules, out, logs)
    assert done.returncode == 0, done.stderr
    in_sample, out_of_sample = row_ranked(out, "rank"), row_ranked(out, "oos_rank")
    assert in_sample["variant"] != out_of_sample["variant"], f"the two bests must differ here: {ranking(out)}"
    value = float(out_of_sample[TARGET])
    assert value != CURRENT  # else nothing would be written
    name = "0001-sweep-target_wf.yaml"
    assert f"--write-best: {out_of_sample['variant']} written as {rules}/learned/{name}" in done.stdout
    document = yaml.safe_load((rules / "learned" / name).read_text(encoding="utf-8"))
    assert document["values"] == {TARGET: value} and value != float(in_sample[TARGET])
    metrics = document["provenance"]["metrics"]
    assert metrics["oos_net_pnl_pct"] == pytest.approx(float(out_of_sample["oos_net_pnl_pct"]))
    assert metrics["net_pnl_pct"] == pytest.approx(float(out_of_sample["net_pnl_pct"]))
    assert learned(rules) == [".gitkeep", name]
    [line] = audit(logs)
    assert line["status"] == "applied" and line["changes"] == [{"path": TARGET, "old": CURRENT, "new": value}]
