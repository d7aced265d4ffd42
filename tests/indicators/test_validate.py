"""`rulebot validate` on indicators.yaml: every problem located at file:line:col with a
suggestion — an unknown kind, a bad or unknown parameter, a bad timeframe, a name the
vocabulary already has, MACD's periods the wrong way round, an expression naming an
undeclared indicator — and a rule set without the file keeps the version it had."""

from __future__ import annotations

import shutil
from pathlib import Path

from engine.language.compiler import compile_ruleset

ROOT = Path(__file__).resolve().parents[2]


def _rules(tmp_path: Path, indicators: str, exits_when: str | None = None) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    (rules / "indicators.yaml").write_text("kind: indicators\nindicators:\n" + indicators, encoding="utf-8")
    if exits_when is not None:
        path = rules / "exits.yaml"
        text = path.read_text(encoding="utf-8")
        old = 'when: "alignment >= 0.75 and momentum_continuing"'
        assert old in text
        path.write_text(text.replace(old, f'when: "{exits_when}"'), encoding="utf-8")
    return rules


def _found(rules: Path) -> list[str]:
    return [
        f"{Path(d.file).name}:{d.line}:{d.col}: {d.code} {d.message} | {d.suggestion}"
        for d in compile_ruleset(str(rules)).diagnostics
    ]


def test_schema_problems_are_located_and_suggest(tmp_path):
    found = _found(
        _rules(
            tmp_path,
            "  - {id: fast, kind: emaa, params: {period: 9}}\n"
            "  - {id: slow, kind: ema, params: {period: 0, sed: sma}}\n"
            "  - {id: band, kind: bollinger, timeframe: 7x, params: {period: 20}}\n",
        )
    )
    assert any(m.startswith("indicators.yaml:3:") and "RB204" in m and "did you mean 'ema'" in m for m in found), found
    assert any(m.startswith("indicators.yaml:4:") and "RB205" in m for m in found), found
    assert any(m.startswith("indicators.yaml:4:") and "RB201" in m and "did you mean 'seed'" in m for m in found), found
    assert any(m.startswith("indicators.yaml:5:") and "RB206" in m for m in found), found
    assert not any("RB413" in m for m in found), "an invalid file's names are not reported unknown on top"


def test_names_the_vocabulary_has_and_contradicting_periods(tmp_path):
    found = _found(
        _rules(
            tmp_path,
            "  - {id: price, kind: sma, params: {period: 5}}\n"
            "  - {id: m, kind: macd, params: {fast: 26, slow: 12}}\n"
            "  - {id: max, kind: highest, params: {period: 5}}\n",
        )
    )
    assert any(m.startswith("indicators.yaml:3:") and "RB331" in m and "built-in name" in m for m in found), found
    assert any(m.startswith("indicators.yaml:4:") and "RB333" in m for m in found), found
    assert any(m.startswith("indicators.yaml:5:") and "RB331" in m and "function" in m for m in found), found


def test_an_expression_naming_an_undeclared_indicator(tmp_path):
    rules = _rules(tmp_path, "  - {id: rsi_fast, kind: rsi, params: {period: 7}}\n", exits_when="rsi_fats > 70")
    found = _found(rules)
    assert any(m.startswith("exits.yaml:") and "RB413" in m and "did you mean 'rsi_fast'" in m for m in found), found


def test_declared_names_compile_everywhere_and_leave_the_default_version_alone(tmp_path):
    rules = _rules(
        tmp_path,
        "  - {id: rsi_fast, kind: rsi, timeframe: 5m, params: {period: 7}}\n"
        "  - {id: bb, kind: bollinger, params: {period: 20}}\n",
        exits_when="rsi_fast > 70 and price > bb_upper",
    )
    result = compile_ruleset(str(rules))
    assert result.ok, _found(rules)
    plan = result.plans["paper"]
    assert plan.indicators.names == {"rsi_fast", "bb_upper", "bb_middle", "bb_lower"}
    assert result.version != compile_ruleset(str(ROOT / "rules")).version
    (rules / "indicators.yaml").unlink()
    assert compile_ruleset(str(rules.parent / "rules")).plans == {}  # the exit still reads rsi_fast
