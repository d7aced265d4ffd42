"""Strict YAML loader: every code, exact positions, hostile inputs never raise."""

from __future__ import annotations

import os
import random

import pytest

from engine.language.diagnostics import Location
from engine.language.yamlstrict import CODES, MAX_FILE_BYTES, LoadedDocument, load_yaml_file, load_yaml_text, pointer


def load(text: str, **kwargs):
    return load_yaml_text(text, "t.yaml", **kwargs)


def found(diags) -> list[tuple[str, int, int]]:
    return [(d.code, d.line, d.col) for d in diags]


def assert_well_formed(diags) -> None:
    for d in diags:
        assert d.code in CODES and d.file and d.line >= 1 and d.col >= 1 and d.suggestion, d


# --- values ---------------------------------------------------------------------------


def test_plain_scalars_follow_the_strict_core_schema():
    doc, diags = load(
        "i: -12\nj: +3\nk: 0\nf: 1.5\ng: .5\nh: -0.25\n"
        "e1: 1e-3\ne2: 1E5\ne3: -2.5e+4\ne4: 1.0e-3\n"
        "t1: true\nt2: True\nt3: TRUE\nf1: false\nf2: False\nf3: FALSE\n"
        "n1: ~\nn2: null\nn3: Null\nn4: NULL\nn5:\n"
        "s: hello world\nq1: 'yes'\nq2: \"010\"\nq3: '1e-3'\nb: |\n  block\n"
    )
    assert diags == []
    assert doc.data == {
        "i": -12,
        "j": 3,
        "k": 0,
        "f": 1.5,
        "g": 0.5,
        "h": -0.25,
        "e1": 0.001,
        "e2": 100000.0,
        "e3": -25000.0,
        "e4": 0.001,
        "t1": True,
        "t2": True,
        "t3": True,
        "f1": False,
        "f2": False,
        "f3": False,
        "n1": None,
        "n2": None,
        "n3": None,
        "n4": None,
        "n5": None,
        "s": "hello world",
        "q1": "yes",
        "q2": "010",
        "q3": "1e-3",
        "b": "block\n",
    }
    for key in ("e1", "e2", "e3", "e4", "f", "g"):
        assert type(doc.data[key]) is float
    assert type(doc.data["i"]) is int and type(doc.data["t1"]) is bool


def test_dates_and_timestamps_stay_strings():
    doc, diags = load("d: 2024-01-01\nts: 2024-01-01T00:00:00Z\nsp: 2024-01-01 10:00:00\n")
    assert diags == []
    assert doc.data == {"d": "2024-01-01", "ts": "2024-01-01T00:00:00Z", "sp": "2024-01-01 10:00:00"}


def test_allowed_core_tags():
    doc, diags = load(
        "a: !!float 1\nb: !!int '12'\nc: !!bool true\nd: !!null ''\ne: !!map {}\nf: !!seq []\ng: !!str 010\n"
    )
    assert diags == []
    assert doc.data == {"a": 1.0, "b": 12, "c": True, "d": None, "e": {}, "f": [], "g": "010"}
    assert type(doc.data["a"]) is float


# --- locations ------------------------------------------------------------------------

NESTED = "rules:\n  - id: a\n    weight: {value: 0.22, learn: [1, 2]}\n  - id: 'b'\n    note: |\n      text\n"


def test_locations_of_nested_values_and_list_items():
    doc, diags = load(NESTED)
    assert diags == [] and isinstance(doc, LoadedDocument)
    at = {path: (loc.line, loc.col) for path, loc in doc.locations.items()}
    assert at[()] == (1, 1)
    assert at[("rules",)] == (2, 3)
    assert at[("rules", 0)] == (2, 5)
    assert at[("rules", 0, "id")] == (2, 9)
    assert at[("rules", 0, "weight")] == (3, 13)
    assert at[("rules", 0, "weight", "value")] == (3, 21)
    assert at[("rules", 0, "weight", "learn", 1)] == (3, 38)
    assert at[("rules", 1, "id")] == (4, 9)
    assert at[("rules", 1, "note")] == (5, 11)
    assert doc.locations[("rules", 0, "id")] == Location("t.yaml", 2, 9)


def test_key_locations_point_at_the_key():
    doc, _ = load(NESTED)
    assert doc.key_location_of(("rules",)) == Location("t.yaml", 1, 1)
    assert doc.key_location_of(("rules", 0, "weight")) == Location("t.yaml", 3, 5)
    assert doc.key_location_of(("rules", 0, "weight", "learn")) == Location("t.yaml", 3, 27)
    assert doc.key_location_of(("rules", 1, "note")) == Location("t.yaml", 5, 5)
    # list items have no key: falls back to the value location
    assert doc.key_location_of(("rules", 1)) == Location("t.yaml", 4, 5)


def test_location_of_falls_back_to_the_nearest_ancestor_and_never_raises():
    doc, _ = load(NESTED)
    assert doc.location_of(("rules", 0, "weight", "missing", 3)) == Location("t.yaml", 3, 13)
    assert doc.location_of(("nope",)) == Location("t.yaml", 1, 1)
    assert doc.location_of(["rules", 1]) == Location("t.yaml", 4, 5)
    assert doc.location_of(("rules", [0])) == Location("t.yaml", 2, 3)  # unhashable part
    assert doc.location_of(None) == Location("t.yaml", 1, 1)
    assert doc.key_location_of(None) == Location("t.yaml", 1, 1)


def test_pointer_escapes_and_root():
    assert pointer(()) == ""
    assert pointer(("components", 0, "weight")) == "/components/0/weight"
    assert pointer(("a/b", "c~d")) == "/a~1b/c~0d"


def test_crlf_and_bom_do_not_shift_positions():
    doc, diags = load("\ufeffa: 1\r\nb: yes\r\n")
    assert found(diags) == [("RB105", 2, 4)]
    assert doc.location_of(("a",)) == Location("t.yaml", 1, 4)


# --- one test per code ----------------------------------------------------------------


def test_rb101_syntax_error_with_readable_message():
    doc, diags = load("a: 1\nb: [1, 2\nc: 3\n")
    assert doc is None
    assert found(diags) == [("RB101", 3, 2)]
    assert "expected ',' or ']'" in diags[0].message and "line 2, col 4" in diags[0].message


def test_rb101_tab_indentation_and_bad_block():
    assert found(load("a:\n\tb: 1\n")[1]) == [("RB101", 2, 1)]
    _, diags = load("- a\nb: 1\n")
    assert found(diags) == [("RB101", 2, 1)]
    assert "<block end>" not in diags[0].message and "indentation" in diags[0].suggestion


def test_rb102_every_duplicate_is_reported_and_the_first_wins():
    doc, diags = load("a: 1\na: 2\nb:\n  x: 1\n  z: 2\n  x: {deep: yes}\n")
    assert found(diags) == [("RB102", 2, 1), ("RB102", 6, 3), ("RB105", 6, 13)]
    assert "line 1" in diags[0].message and "line 4" in diags[1].message
    assert diags[1].path == "/b/x"
    assert doc.data == {"a": 1, "b": {"x": 1, "z": 2}}
    assert doc.location_of(("b", "x")) == Location("t.yaml", 4, 6)


def test_rb103_anchor_and_alias_are_rejected():
    doc, diags = load("base: &b\n  a: 1\nother: *b\n")
    assert found(diags) == [("RB103", 1, 7), ("RB103", 3, 8)]
    assert "write the value out" in diags[0].suggestion
    assert doc.data == {"base": {"a": 1}, "other": None}


def test_rb103_billion_laughs_is_not_expanded():
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    doc, diags = load("\n".join(lines) + "\n")
    assert {d.code for d in diags} == {"RB103"}
    assert len(diags) == 10 + 81
    assert found(diags)[:2] == [("RB103", 1, 5), ("RB103", 2, 5)]
    assert doc.data["l9"] == [None] * 9


@pytest.mark.parametrize(
    "text, col",
    [
        ("a: !!python/object:os.system x\n", 4),
        ("a: !!python/object/apply:os.system ['ls']\n", 4),
        ("a: !foo 1\n", 4),
        ("a: !!binary aGVsbG8=\n", 4),
        ("a: !!timestamp 2024-01-01\n", 4),
        ("a: !!set {x}\n", 4),
        ("a:  !!omap [x: 1]\n", 5),
        ("a: !!seq {}\n", 4),
        ("a: !!int abc\n", 4),
    ],
)
def test_rb104_non_core_or_mismatched_tags(text, col):
    doc, diags = load(text)
    assert found(diags) == [("RB104", 1, col)]
    assert doc is not None and diags[0].path == "/a"


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "y", "n", "Yes", "NO", "On", "OFF", "Y", "N"])
def test_rb105_yaml11_boolean_trap(word):
    doc, diags = load(f"flag: {word}\n")
    assert found(diags) == [("RB105", 1, 7)]
    assert diags[0].suggestion == "write true/false, or quote it if you meant the text"
    assert doc.data == {"flag": word}


def test_rb105_applies_to_keys_but_not_to_quoted_text():
    _, diags = load("on: 1\n'off': 2\nx: 'yes'\n")
    assert found(diags) == [("RB105", 1, 1)]
    assert diags[0].path == "/on"


@pytest.mark.parametrize("value", ["010", "0o10", "-010", "1:30", "0x1F", "0b101", "1_000", "1_000.5"])
def test_rb106_ambiguous_numbers(value):
    doc, diags = load(f"num: {value}\n")
    assert found(diags) == [("RB106", 1, 6)]
    assert "quote" in diags[0].suggestion
    assert doc.data == {"num": value}


@pytest.mark.parametrize("value", [".inf", "-.inf", "+.inf", ".Inf", ".nan", ".NaN", "1e999"])
def test_rb108_non_finite_numbers(value):
    _, diags = load(f"x: {value}\n")
    assert found(diags) == [("RB108", 1, 4)]


def test_rb109_keys_must_be_strings():
    doc, diags = load("1: a\ntrue: x\nnull: z\n1.5: w\n? [a]\n: b\nok: 1\n")
    assert found(diags) == [("RB109", 1, 1), ("RB109", 2, 1), ("RB109", 3, 1), ("RB109", 4, 1), ("RB109", 5, 3)]
    assert doc.data == {"ok": 1}
    assert found(load("{? : x}\n")[1]) == [("RB109", 1, 3)]


def test_rb110_file_too_large_is_refused_before_parsing(tmp_path):
    big = tmp_path / "big.yaml"
    with open(big, "wb") as fh:
        fh.write(b"a: [" * 10)
        fh.truncate(10_000_000)  # 10 MB, mostly NUL bytes
    doc, diags = load_yaml_file(big)
    assert doc is None and found(diags) == [("RB110", 1, 1)]
    assert "10,000,000" in diags[0].message and f"{MAX_FILE_BYTES:,}" in diags[0].message
    small = tmp_path / "small.yaml"
    small.write_text("a: 1\nb: 2\n")
    assert found(load_yaml_file(small, max_bytes=5)[1]) == [("RB110", 1, 1)]


def test_rb111_too_many_nodes_stops_early():
    doc, diags = load("items: [" + ", ".join(["1"] * 50) + "]\n", max_nodes=20)
    assert doc is None and found(diags) == [("RB111", 1, 60)]  # root, key, list, 18 items
    assert diags[0].path == "/items"


def test_rb112_deep_nesting_bombs():
    doc, diags = load("[" * 100_000)
    assert doc is None and found(diags) == [("RB112", 1, 65)]
    doc, diags = load("{" * 100_000)
    assert doc is None and found(diags) == [("RB112", 1, 65)]
    doc, diags = load("- " * 50_000)
    assert doc is None and found(diags) == [("RB112", 1, 129)]
    block = "".join(" " * i + f"k{i}:\n" for i in range(70))
    doc, diags = load(block)
    assert doc is None and found(diags) == [("RB112", 65, 65)]


def test_64_levels_are_allowed():
    doc, diags = load("[" * 64 + "]" * 64)
    assert diags == [] and doc is not None


def test_rb113_control_characters_in_text():
    doc, diags = load("a: 1\nb: x\x00y\x01\n")
    assert doc is None and found(diags) == [("RB113", 2, 5)]
    assert "U+0000" in diags[0].message and "1 more" in diags[0].message


def test_rb113_invalid_utf8_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"a: 1\nname: caf\xc3\xa9 \xff\n")
    doc, diags = load_yaml_file(path, display_name="rules/bad.yaml")
    assert doc is None and found(diags) == [("RB113", 2, 12)]
    assert diags[0].file == "rules/bad.yaml" and "0xFF" in diags[0].message


def test_rb113_random_binary(tmp_path):
    data = b"a: 1\n  \x80" + random.Random(7).randbytes(50_000)
    path = tmp_path / "blob.yaml"
    path.write_bytes(data)
    doc, diags = load_yaml_file(path)
    assert doc is None and found(diags) == [("RB113", 2, 3)]
    assert_well_formed(diags)
    doc, diags = load(data.decode("latin-1"))  # decodable, but full of control characters
    assert doc is None and found(diags) == [("RB113", 2, 3)]


def test_rb113_surrogate_escapes_in_quoted_text_and_keys():
    doc, diags = load('name: ok\ndescription: "a\\ud800b"\nlist: [x, "\\udfff"]\n"k\\ud83d": 1\n')
    assert found(diags) == [("RB113", 2, 14), ("RB113", 3, 11), ("RB113", 4, 1)]
    assert [d.path for d in diags] == ["/description", "/list/1", "/k\\ud83d"]  # printable, not raw
    assert "U+D800" in diags[0].message and "UTF-16 surrogate" in diags[0].message
    assert_well_formed(diags)
    # the document stays usable (every problem is reported), and holds no unencodable text
    assert doc.data == {"name": "ok", "description": "a\ufffdb", "list": ["x", "\ufffd"], "k\ufffd": 1}
    assert "\ufffd" in repr(doc.data) and str(doc.data).encode("utf-8")


def test_astral_escape_is_not_a_surrogate():
    doc, diags = load('smile: "\\U0001F600"\n')
    assert diags == [] and doc.data == {"smile": "\U0001f600"}


def test_rb114_second_document():
    doc, diags = load("---\na: 1\n---\nb: 2\n")
    assert found(diags) == [("RB114", 3, 1)]
    assert doc.data == {"a": 1}
    assert found(load("a: 1\n...\n---\nb: 2\n")[1]) == [("RB114", 3, 1)]


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "~\n", "---\n", "null\n"])
def test_empty_document_is_none_without_diagnostic(text):
    doc, diags = load(text)
    assert diags == [] and doc is not None and doc.data is None
    assert doc.location_of(("anything",)).line >= 1


def test_non_mapping_top_level_is_left_to_callers():
    doc, diags = load("- 1\n- two\n")
    assert diags == [] and doc.data == [1, "two"]


def test_rb116_unreadable_paths(tmp_path):
    doc, diags = load_yaml_file(tmp_path / "missing.yaml")
    assert doc is None and found(diags) == [("RB116", 1, 1)]
    assert diags[0].file.endswith("missing.yaml")
    doc, diags = load_yaml_file(tmp_path)
    assert doc is None and found(diags) == [("RB116", 1, 1)]
    assert "it is a directory" in diags[0].message


def test_rb116_broken_symlink_says_so(tmp_path):
    (tmp_path / "x.yaml").symlink_to(tmp_path / "gone.yaml")
    doc, diags = load_yaml_file(tmp_path / "x.yaml")
    assert doc is None and found(diags) == [("RB116", 1, 1)]
    assert "broken symbolic link" in diags[0].message


def test_load_yaml_file_round_trip(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_bytes(b"\xef\xbb\xbfname: ok\nw: 1e-3\n")
    doc, diags = load_yaml_file(os.fspath(path), display_name="ok.yaml")
    assert diags == [] and doc.file == "ok.yaml" and doc.data == {"name": "ok", "w": 0.001}
    assert doc.location_of(("w",)) == Location("ok.yaml", 2, 4)


# --- robustness -----------------------------------------------------------------------


def test_every_problem_in_a_file_is_reported_in_order():
    text = "a: yes\nb: 010\na: 2\nc: &x 1\nd: .nan\n1: k\ne: !foo x\n"
    doc, diags = load(text)
    assert found(diags) == [
        ("RB105", 1, 4),
        ("RB106", 2, 4),
        ("RB102", 3, 1),
        ("RB103", 4, 4),
        ("RB108", 5, 4),
        ("RB109", 6, 1),
        ("RB104", 7, 4),
    ]
    assert [d.path for d in diags] == ["/a", "/b", "/a", "/c", "/d", "", "/e"]
    assert doc is not None
    assert_well_formed(diags)


def test_hostile_fragments_never_raise():
    alphabet = list("[]{}:,-?&*!|>'\"#%@` \n\t~.0123456789eE+_xyn") + [
        ": ",
        "- ",
        "---",
        "...",
        "!!int ",
        "&a ",
        "*a ",
        "? ",
        "\ufeff",
        "\u2028",
        "\x85",
        "é",
    ]
    rng = random.Random(11)
    for _ in range(1500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        doc, diags = load(text)
        assert doc is not None or diags
        assert_well_formed(diags)


def test_huge_integer_does_not_raise():
    doc, diags = load("big: " + "9" * 5000 + "\nm: 123456789012345678901234567890\n")
    assert found(diags) == [("RB108", 1, 6)]
    assert doc.data["m"] == 123456789012345678901234567890


def test_codes_are_documented():
    assert set(CODES) == {f"RB1{n:02d}" for n in (1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 16)}
    assert all(isinstance(text, str) and text for text in CODES.values())
