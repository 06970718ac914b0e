from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peaktrade.loader import load_toml, load_yaml, parse_yaml


def test_locations_of_nested_values_are_one_based_key_positions():
    loaded = parse_yaml("a: 1\nsteps:\n  - id: x\n    with:\n      stage: tesnet\n", "f.yaml")
    assert loaded.problems == []
    assert loaded.locations.at(("steps", 0, "with", "stage")) == (5, 7)
    assert loaded.locations.at(("steps", 0)) == (3, 5)


def test_missing_path_falls_back_to_nearest_ancestor():
    loaded = parse_yaml("a:\n  b: 1\n", "f.yaml")
    assert loaded.locations.at(("a", "c", 3)) == (1, 1)
    assert loaded.locations.problem(("a", "c"), "boom").text() == "f.yaml:1:1: $.a.c: boom"


def test_duplicate_keys_are_errors_with_both_lines():
    loaded = parse_yaml("a: 1\nb: 2\na: 3\n", "f.yaml")
    assert [p.text() for p in loaded.problems] == ["f.yaml:3:1: $.a: duplicate key 'a' (first defined on line 1)"]


def test_non_string_keys_are_errors():
    loaded = parse_yaml("1: x\n", "f.yaml")
    assert loaded.problems[0].message == "mapping key '1' must be a string"


def test_syntax_error_is_located():
    loaded = parse_yaml("a: [1, 2\nb: 3\n", "f.yaml")
    assert loaded.data is None
    (p,) = loaded.problems
    assert p.message.startswith("YAML syntax error")
    assert p.line >= 2


def test_empty_document():
    assert parse_yaml("", "f.yaml").problems[0].message == "document is empty"


def test_missing_file(tmp_path: Path):
    loaded = load_yaml(tmp_path / "nope.yaml", "nope.yaml")
    assert [p.text() for p in loaded.problems] == ["nope.yaml:1:1: $: file not found"]


def test_toml_locations_and_errors(tmp_path: Path):
    f = tmp_path / "c.toml"
    f.write_text('[environment]\nmode = "x"\n\n[exchange.dummy]\nseed = 1\n')
    loaded = load_toml(f, "c.toml")
    assert loaded.locations.at(("environment", "mode")) == (2, 1)
    assert loaded.locations.at(("exchange", "dummy", "seed")) == (5, 1)
    f.write_text("[environment\nmode=1\n")
    bad = load_toml(f, "c.toml")
    assert bad.data is None and bad.problems[0].message.startswith("TOML syntax error")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_no_text_makes_the_loader_raise(text: str):
    import yaml

    loaded = parse_yaml(text, "fuzz.yaml")
    if loaded.data is None and not loaded.problems:
        # only a document that really is a YAML null (`~`, `null`, …) loads as None without a problem
        assert yaml.safe_load(text) is None


@pytest.mark.parametrize("text", ["&a [*a]", "a: &x {b: *x}", "!!python/object:os.system x", "? [a]\n: 1"])
def test_hostile_yaml_is_a_problem_not_a_crash(text: str):
    loaded = parse_yaml(text, "h.yaml")
    assert loaded.problems or loaded.data is not None
