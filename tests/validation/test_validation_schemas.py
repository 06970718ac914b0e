"""Every shipped JSON Schema is itself valid (peaktrade.schemas skips this check at run time for speed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

SCHEMAS = sorted((Path(__file__).resolve().parents[2] / "schemas").glob("*.schema.json"))


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name)
def test_shipped_schema_is_a_valid_2020_12_schema(path: Path):
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    assert schema.get("$schema") == "https://json-schema.org/draft/2020-12/schema"


def test_playbook_and_config_schemas_are_there():
    assert {"playbook.schema.json", "config.schema.json"} <= {p.name for p in SCHEMAS}
