"""Property: an approval is valid exactly when distinct, eligible signers fill the decision's roles."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peaktrade.errors import BlockedError
from peaktrade.policy.approvals import create_request, load_request, playbook_subject, sign_request
from peaktrade.policy.verify import verify_doc

PEOPLE = {"alice": ["owner"], "bob": ["operator"], "carol": ["risk_officer"], "dave": ["owner"], "erin": ["operator"]}
DECISIONS = {"live_activation": ["owner", "any"], "risk_limit_change": ["risk_officer", "owner"]}


def expected_valid(requires, signers, excluded):
    eligible = sorted(set(signers) - excluded)
    for combo in itertools.permutations(eligible, len(requires)):
        if all(r == "any" or r in PEOPLE[p] for r, p in zip(requires, combo, strict=True)):
            return True
    return False


@pytest.fixture(scope="module")
def signed(tmp_path_factory, keys):
    """One request per decision (requester 'zed', not a signer), signed once by everybody."""
    import shutil

    import yaml

    from peaktrade.clock import FakeClock
    from peaktrade.hashing import file_sha256
    from peaktrade.root import Root

    repo = __import__("pathlib").Path(__file__).resolve().parents[2]
    d = tmp_path_factory.mktemp("prop")
    for sub in ("config", "playbooks", "policies", "schemas"):
        shutil.copytree(repo / sub, d / sub)
    root = Root(d)
    data = yaml.safe_load(root.policy_file("roles").read_text())
    import subprocess

    zed = d / "zed"  # the requester signs the request too (issue 9): a listed person with a key
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(zed)], check=True, capture_output=True)
    data["people"] = [{"name": n, "roles": r, "keys": [keys[n].with_suffix(".pub").read_text().strip()]}
                      for n, r in PEOPLE.items()]
    data["people"].append({"name": "zed", "roles": ["operator"], "keys": [zed.with_suffix(".pub").read_text().strip()]})
    root.policy_file("roles").write_text(yaml.safe_dump(data, sort_keys=False))
    clock = FakeClock()
    out = {}
    for decision in DECISIONS:
        subject = playbook_subject(root, "live-start-small", {})
        change = {"base": "HEAD", "before": {}, "changes": [],
                  "after": {p.name: file_sha256(p) for p in root.policies_dir.glob("*.yaml")}}
        rid = create_request(root, decision, subject, requester="zed", expires_in=timedelta(hours=1),
                             clock=clock, requester_key=zed,
                             policy_change=change if decision == "risk_limit_change" else None)["request"]["id"]
        for n in PEOPLE:
            sign_request(root, rid, name=n, key_path=keys[n], clock=clock)
        out[decision] = (rid, load_request(root, rid)["signatures"])
    return root, clock, out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(decision=st.sampled_from(sorted(DECISIONS)),
       picks=st.lists(st.sampled_from(sorted(PEOPLE)), min_size=0, max_size=4),
       operator=st.sampled_from([None, *sorted(PEOPLE)]))
def test_valid_iff_distinct_eligible_signers_fill_the_roles(signed, decision, picks, operator):
    root, clock, requests = signed
    rid, signatures = requests[decision]
    by_name = {s["name"]: s for s in signatures}
    doc = load_request(root, rid)
    doc["signatures"] = [by_name[p] for p in picks]  # the same person may appear twice
    path = root.var_dir / "approvals" / f"{rid}.json"
    path.write_text(json.dumps(doc))
    excluded = {"zed"} | ({operator} if operator else set())
    want = expected_valid(DECISIONS[decision], picks, excluded)
    try:
        record = verify_doc(root, load_request(root, rid), requester=operator, clock=clock)
    except BlockedError as exc:
        assert not want, exc.message
        return
    assert want
    names = [s.name for s in record.signers]
    assert len(names) == len(set(names)) == len(DECISIONS[decision]) and operator not in names
