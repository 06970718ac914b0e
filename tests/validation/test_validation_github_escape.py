"""--format github: the file property is escaped like GitHub's workflow commands require."""

from __future__ import annotations

from peaktrade.problems import Problem


def test_github_annotation_escapes_commas_and_colons_in_the_file_name():
    p = Problem("playbooks/a,b:c%.yaml", 3, 5, "$.title", "50% done\nnext")
    assert p.github() == "::error file=playbooks/a%2Cb%3Ac%25.yaml,line=3,col=5::$.title: 50%25 done%0Anext"


def test_github_annotation_of_a_plain_file_is_unchanged():
    p = Problem("playbooks/x.yaml", 1, 1, "$", "document is empty", severity="warning")
    assert p.github() == "::warning file=playbooks/x.yaml,line=1,col=1::$: document is empty"
