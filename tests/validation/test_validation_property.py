"""Property tests: no text and no YAML-able data makes the loader or validation raise or hit a bug."""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peaktrade.loader import parse_yaml
from peaktrade.root import Root
from peaktrade.validation import validate_files

REPO = Path(__file__).resolve().parents[2]
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False),
                    st.text(max_size=20),
                    st.sampled_from(["{{ params.x }}", "{{ steps.a.ok }}", "{% if %}", "{{", "disk.check",
                                     "health-check", "testnet", "read", "act"]))
keys = st.one_of(st.text(max_size=10), st.none(), st.integers(-3, 3), st.sampled_from(
    ["name", "title", "runbook", "stage", "params", "guards", "steps", "on_failure", "id", "effect", "run",
     "action", "with", "confirm", "manual", "approve", "decide", "playbook", "when", "retries", "type",
     "default", "enum", "options", "question", "kill_switch", "approval", "incident", "severity"]))
data = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=5), st.dictionaries(keys, children, max_size=6)), max_leaves=30)

# playbook-shaped documents reach the semantic checks, not only the schema
step = st.fixed_dictionaries(
    {"id": st.sampled_from(["a", "b", "a", "c"]), "title": st.just("T"), "effect": st.sampled_from(["read", "act"])},
    optional={"action": st.sampled_from(["disk.check", "logs.backup", "nope.x", 3]),
              "with": data, "manual": scalars, "playbook": st.sampled_from(["health-check", "self", "gone"]),
              "when": scalars, "run": st.lists(scalars, max_size=3), "approve": scalars,
              "on_failure": data})
playbook = st.fixed_dictionaries(
    {"name": st.just("self"), "title": st.just("T"), "runbook": st.integers(0, 12),
     "stage": st.sampled_from(["any", "testnet", "bogus"]), "steps": st.lists(step, max_size=5)},
    optional={"params": st.dictionaries(st.sampled_from(["x", "y", None, 1]), data, max_size=2), "guards": data,
              "on_failure": data})


def _assert_no_bug(problems) -> None:
    for p in problems:
        assert "internal validation error" not in p.message, p.text()
        assert p.line >= 1 and p.col >= 1


@SETTINGS
@given(text=st.text(max_size=300))
def test_arbitrary_text_never_breaks_the_loader(text):
    loaded = parse_yaml(text, "x.yaml")
    if loaded.data is None and not loaded.problems:  # a document that is YAML null ("~", "null", "")
        assert yaml.safe_load(text) is None


@SETTINGS
@given(doc=st.one_of(data, playbook))
def test_arbitrary_documents_never_break_validation(tmp_path_factory, doc):
    base = tmp_path_factory.mktemp("prop")
    for folder in ("playbooks", "policies"):
        (base / folder).mkdir()
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    (base / "playbooks" / "self.yaml").write_text(text, encoding="utf-8")
    (base / "policies" / "stages.yaml").write_text(text, encoding="utf-8")
    report = validate_files(Root(REPO), [base / "playbooks" / "self.yaml", base / "policies" / "stages.yaml"])
    _assert_no_bug(report.problems)


@SETTINGS
@given(text=st.text(max_size=200))
def test_arbitrary_text_as_a_playbook_never_raises(tmp_path_factory, text):
    base = tmp_path_factory.mktemp("txt")
    (base / "playbooks").mkdir()
    (base / "playbooks" / "t.yaml").write_text(text, encoding="utf-8")
    _assert_no_bug(validate_files(Root(REPO), [base / "playbooks" / "t.yaml"]).problems)


jinja_bits = st.sampled_from(["{{", "}}", "{%", "%}", "params.", "steps.", "a", "|", "upper", "if", "for", " ",
                              "'", "==", "[", "]", "(", ")", "answer", "data", "in", "x", "{#", "#}", "-"])


@SETTINGS
@given(source=st.one_of(st.text(max_size=80), st.lists(jinja_bits, max_size=25).map("".join)))
def test_template_analysis_never_raises(source):
    from peaktrade.validation.templates import analyse

    for expression in (False, True):
        facts = analyse(source, expression=expression)
        assert facts.error is None or facts.error.startswith("Jinja syntax error: ")


@settings(max_examples=60, deadline=None)
@given(args=st.lists(st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)),
                             max_size=40), max_size=3))
def test_validate_cli_never_crashes_on_arbitrary_paths(args):
    import contextlib
    import io

    from peaktrade.cli import run

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(["--root", str(REPO), "validate", "--", *args])
    assert code in (0, 2), err.getvalue()
    assert "internal error" not in err.getvalue() and "Traceback" not in err.getvalue()
