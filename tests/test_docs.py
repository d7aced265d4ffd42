"""The docs cannot drift: generated pages equal what engine/docgen produces now, every
kind, schema path and code is documented, every relative link resolves, and the shell
transcripts of TRANSCRIPT_PAGES are replayed and must print exactly what they show."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from engine.docgen.codes import CODE_KINDS
from engine.docgen.defaults import LEARNED_EXAMPLE, load_defaults
from engine.docgen.expressions import EXPRESSION_CONTEXTS, expression_fields
from engine.docgen.pages import HEADER, generate_pages
from engine.docgen.transcripts import TRANSCRIPT_PAGES, parse_transcript, render_transcript, replay_transcripts
from engine.language import compiler, crosscheck
from engine.language.codes import ALL_CODES
from engine.language.expr import CODES as EXPR_CODES
from engine.language.expr import MAX_DEPTH, MAX_LENGTH, MAX_LITERAL, MAX_NODES, MAX_POW_EXPONENT
from engine.language.kinds import KINDS
from engine.language.loader import ALL_KINDS
from engine.language.vocabulary import CONTEXTS

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
REFERENCE = DOCS / "reference"
REGENERATE = "out of date: run `python -m engine.docgen` and commit the result"


@pytest.fixture(scope="module")
def generated() -> dict[str, str]:
    return generate_pages()


def _page(name: str) -> str:
    return (REFERENCE / name).read_text(encoding="utf-8")


# ------------------------------------------------------------------ generated pages


def test_generated_pages_on_disk_equal_what_docgen_produces(generated):
    stale = [
        rel
        for rel, content in generated.items()
        if not (ROOT / rel).exists() or (ROOT / rel).read_text(encoding="utf-8") != content
    ]
    assert not stale, f"{', '.join(stale)}: {REGENERATE}"


def test_generated_pages_say_so(generated):
    assert all(content.startswith(HEADER) for content in generated.values())


def test_every_generated_page_on_disk_is_still_generated(generated):
    on_disk = {
        p.relative_to(ROOT).as_posix()
        for p in REFERENCE.glob("*.md")
        if p.read_text(encoding="utf-8").startswith(HEADER)
    }
    assert on_disk <= set(generated), f"orphaned generated pages: {sorted(on_disk - set(generated))}"


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_kind_has_a_page_linked_from_the_index(kind):
    assert (REFERENCE / f"{kind}.md").exists(), REGENERATE
    assert f"]({kind}.md)" in _page("index.md")


def test_every_registered_kind_is_a_known_kind():
    assert set(KINDS) <= set(ALL_KINDS)


def _schema_paths(node: dict, root: dict, prefix: str = ""):
    """Every property path of a schema, walked independently of docgen."""
    for name, sub in node.get("properties", {}).items():
        path = f"{prefix}.{name}" if prefix else name
        yield path
        yield from _below(sub, root, path)


def _below(sub: dict, root: dict, path: str):
    if sub.get("x-learnable") or "$ref" in sub:
        return
    if sub.get("type") == "array":
        items = sub["items"]
        for branch in items.get("allOf", ()):
            yield from _schema_paths(root["$defs"][branch["then"]["$ref"].split("/")[-1]], root, path + "[]")
        if "properties" in items:
            yield from _schema_paths(items, root, path + "[]")
    elif isinstance(sub.get("additionalProperties"), dict):
        for key in sub.get("propertyNames", {}).get("enum", ["<key>"]):
            yield f"{path}.{key}"
            yield from _below(sub["additionalProperties"], root, f"{path}.{key}")
    elif "properties" in sub:
        yield from _schema_paths(sub, root, path)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_schema_property_path_appears_in_its_page(kind):
    from engine.language.schema import load_schema

    root = load_schema(kind)
    page = _page(f"{kind}.md")
    missing = [p for p in _schema_paths(root, root) if f"`{p}`" not in page]
    assert not missing, f"{kind}.md lacks {missing}; {REGENERATE}"


def test_every_code_is_in_error_codes_md():
    page = _page("error-codes.md")
    missing = [c for c in ALL_CODES if f"`{c}`" not in page or ALL_CODES[c].replace("|", "\\|") not in page]
    assert not missing, f"{missing}: {REGENERATE}"


def test_error_codes_md_lists_the_cli_exit_codes():
    from engine.cli import exit_codes

    page = _page("error-codes.md")
    for value in (exit_codes.EXIT_OK, exit_codes.EXIT_INVALID, exit_codes.EXIT_USAGE, exit_codes.EXIT_INTERNAL):
        assert f"| {value} |" in page


def test_codes_defined_outside_the_kind_modules_are_mapped_to_kinds():
    """A new cross-file or overlay code must say which kinds' pages list it."""
    outside = set(crosscheck.CODES) | set(compiler.CODES)
    assert outside <= set(CODE_KINDS), f"add to engine.docgen.codes.CODE_KINDS: {sorted(outside - set(CODE_KINDS))}"
    assert all(set(kinds) <= set(ALL_KINDS) for kinds in CODE_KINDS.values())
    assert set(CODE_KINDS) <= set(ALL_CODES)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_kind_pages_list_their_modules_codes(kind):
    page = _page(f"{kind}.md")
    assert all(f"[{code}](error-codes.md#{code.lower()})" in page for code in KINDS[kind].CODES)


def test_every_expression_field_has_a_vocabulary_context():
    fields = {(kind, path) for kind in ALL_KINDS for path in expression_fields(kind)}
    assert fields == set(EXPRESSION_CONTEXTS)
    assert set(EXPRESSION_CONTEXTS.values()) <= set(CONTEXTS)


def test_vocabulary_md_lists_every_name_of_every_context():
    page = _page("vocabulary.md")
    for name, vocab in CONTEXTS.items():
        assert f"## {name}\n" in page
        assert all(f"| `{n}` |" in page for n in vocab.names)


def test_expressions_md_states_the_limits_of_engine_expr():
    page = _page("expressions.md")
    assert f"{MAX_LENGTH} characters" in page
    assert f"{MAX_DEPTH} levels" in page
    assert f"| {MAX_NODES} |" in page
    assert f"≤ {MAX_POW_EXPONENT}" in page
    assert f"{MAX_LITERAL:.0e}".replace("e+", "e") in page
    assert all(f"[{code}](error-codes.md#{code.lower()})" in page for code in EXPR_CODES)


def test_the_learned_example_loads_with_the_default_rules(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    (rules / "learned").mkdir(exist_ok=True)
    defaults = load_defaults()
    (rules / "learned" / "0001-signal-weights.yaml").write_text(
        LEARNED_EXAMPLE.format(version=defaults.version), encoding="utf-8"
    )
    result = compiler.compile_ruleset(str(rules))
    assert result.ok, [d.as_dict() for d in result.diagnostics]
    weights = {c.id: c.weight for c in result.plans["paper"].signals.components}
    assert (weights["funding_rate"], weights["oi_divergence"]) == (0.17, 0.03)
    assert result.version != defaults.version


def test_learning_md_says_base_version_is_checked_as_compiling_does(tmp_path):
    """A stale ``base_version`` is the RB526 warning; the page must not say it goes unchecked."""
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    (rules / "learned").mkdir(exist_ok=True)
    (rules / "learned" / "0001-signal-weights.yaml").write_text(
        LEARNED_EXAMPLE.format(version="rs-0000000000000000"), encoding="utf-8"
    )
    [stale] = [d for d in compiler.compile_ruleset(str(rules)).diagnostics if d.code == "RB526"]
    assert not stale.is_error
    text = " ".join((DOCS / "learning.md").read_text(encoding="utf-8").split())
    assert "`base_version` is checked when the rules are compiled" in text and "RB526 warning" in text
    assert "`base_version` and `learner` are recorded, not checked" not in text


# ------------------------------------------------------------------ what works today


def test_the_readme_s_works_list_names_every_command_and_no_other():
    from engine.cli.app import main

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    works = readme.split("\nWorks:\n", 1)[1].split("\nNot yet:\n", 1)[0]
    assert set(re.findall(r"`rulebot ([a-z-]+)", works)) == set(main.commands)


def test_live_mode_is_documented_as_built_once_run_trades_live():
    """`rulebot run --live` exists: its checklist page is linked from the docs index, the
    README's "Not yet" list no longer says there is no live trading, and no rule file or
    page about the running bot says live mode is not built."""
    from engine.cli.app import main

    assert "--live" in {opt for param in main.commands["run"].params for opt in param.opts}
    assert "(live-trading.md)" in (DOCS / "README.md").read_text(encoding="utf-8")
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "No live trading" not in readme
    pages = [ROOT / "README.md", DOCS / "operator.md", DOCS / "dry-run.md", *sorted((ROOT / "rules").rglob("*.yaml"))]
    found = [
        path.relative_to(ROOT).as_posix()
        for path in pages
        if re.search(
            r"live (?:mode|trading)[^.]{0,40}not built yet", " ".join(path.read_text(encoding="utf-8").split())
        )
    ]
    assert found == []


# ------------------------------------------------------------------ links


def _markdown_files() -> list[Path]:
    return sorted(DOCS.rglob("*.md")) + [ROOT / "README.md"]


def _outside_fences(text: str) -> str:
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def _anchors(path: Path) -> set[str]:
    text = _outside_fences(path.read_text(encoding="utf-8"))
    found, seen = set(re.findall(r'<a id="([^"]+)"', text)), {}
    for heading in re.findall(r"^#{1,6} +(.+?) *$", text, flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


@pytest.mark.parametrize("path", _markdown_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_relative_links_point_at_existing_files_and_anchors(path):
    text = _outside_fences(path.read_text(encoding="utf-8"))
    text = re.sub(r"`[^`\n]*`", "", text)
    broken = []
    for target in re.findall(r"\[[^\]]*\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        file_part, _, anchor = target.partition("#")
        resolved = (path.parent / file_part).resolve() if file_part else path
        if not resolved.exists() or (anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved)):
            broken.append(target)
    assert not broken, f"{path.relative_to(ROOT)}: broken links {broken}"


# ------------------------------------------------------------------ transcripts


@pytest.fixture(scope="module")
def replayed() -> dict[str, str]:
    return replay_transcripts()


@pytest.mark.parametrize("rel", TRANSCRIPT_PAGES)
def test_console_transcripts_print_what_they_show(rel, replayed):
    """Each ```console block is replayed in a fresh copy of rules/; the outputs must match."""
    assert rel in replayed, f"{rel} is missing"
    on_disk = (ROOT / rel).read_text(encoding="utf-8")
    if on_disk != replayed[rel]:
        import difflib

        diff = "\n".join(
            difflib.unified_diff(on_disk.splitlines(), replayed[rel].splitlines(), "on disk", "now", lineterm="", n=1)
        )
        pytest.fail(
            f"{rel}: a command prints something else now; run `python -m engine.docgen` and review the diff:\n{diff}"
        )


def test_transcripts_round_trip():
    block = "$ cat > f <<'EOF'\n> a\n>\n> EOF\n$ echo hi; echo there\nhi\nthere\n"
    steps = parse_transcript(block)
    assert steps == [("cat > f <<'EOF'\na\n\nEOF", ""), ("echo hi; echo there", "hi\nthere")]
    assert render_transcript(steps) == block


def test_the_walkthrough_then_its_undo_leave_a_clean_clone(tmp_path):
    """Every command of getting-started.md (but the dry-run, which writes nothing), then the
    lines of its "Undo" step, in a git repository holding rules/ and schemas/: nothing is
    left changed or untracked."""
    import os
    import subprocess
    import sys

    from engine.docgen.transcripts import _CONSOLE

    clone = tmp_path / "clone"
    for folder in ("rules", "schemas"):
        shutil.copytree(ROOT / folder, clone / folder, ignore=shutil.ignore_patterns("__pycache__"))
    env = dict(os.environ, PYTHONPATH=str(ROOT), PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")

    def sh(command: str) -> str:
        done = subprocess.run(["bash", "-c", command], cwd=clone, env=env, capture_output=True, text=True, timeout=120)
        return done.stdout

    git = "git -c user.name=docs -c user.email=docs@example.invalid"
    sh(f"git init -q && {git} add -A && {git} commit -qm clone")
    assert sh("git status --porcelain") == ""
    text = (DOCS / "getting-started.md").read_text(encoding="utf-8")
    for block in _CONSOLE.findall(text):
        for command, _ in parse_transcript(block):
            if not command.startswith("rulebot dry-run"):
                sh(command)
    assert "rules/" in sh("git status --porcelain")  # the walkthrough did change the clone
    undo = re.search(r"^## 11\. Undo\n.*?^```bash\n(.*?)^```", text, flags=re.S | re.M)
    assert undo, "getting-started.md has no Undo step with a bash block"
    for line in undo.group(1).splitlines():
        sh(line)
    assert sh("git status --porcelain --untracked-files=all") == ""
