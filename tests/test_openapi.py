"""The committed OpenAPI document is the contract: it must match the app exactly."""

import json
from pathlib import Path

from app.openapi import render_openapi


def test_committed_spec_matches_the_app(repo_root: Path) -> None:
    committed = (repo_root / "openapi" / "openapi.json").read_text()
    assert committed == render_openapi(), "openapi/openapi.json is stale: run `make openapi`"


def test_operations_are_named_documented_and_secured() -> None:
    spec = json.loads(render_openapi())
    assert spec["openapi"].startswith("3.1")
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    operation_ids = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            operation_ids.append(operation["operationId"])
            assert operation["operationId"].isidentifier(), (path, method)
            if "security" in operation:
                errors = {code for code in operation["responses"] if code.startswith(("4", "5"))}
                assert {"401", "403", "422"} <= errors, (path, method)
                problem = operation["responses"]["401"]["content"]
                assert "application/problem+json" in problem
    assert len(operation_ids) == len(set(operation_ids))
    assert "list_audit_events" in operation_ids


def test_every_schema_has_a_plain_unique_name() -> None:
    """Generated clients name their classes after the schemas: no module paths (FastAPI's
    `app__mappings__schemas__...` when two models share a class name), no -Input/-Output."""
    names = list(json.loads(render_openapi())["components"]["schemas"])
    assert names, "the contract has no schemas"
    for name in names:
        assert "__" not in name, f"schema {name!r} is named after its module"
        assert name.isidentifier(), name  # no -Input/-Output, no Page[...]
        assert name[0].isupper(), name
