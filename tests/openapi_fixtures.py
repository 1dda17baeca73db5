"""Atlassian's Cloud OpenAPI schemas (tests/openapi/) as a validator for the sandbox's answers."""

from __future__ import annotations

import json
from pathlib import Path

from jsonschema import Draft202012Validator
from referencing import Registry, Resource


def _rewrite_refs(node):
    """Point the spec's local ``#/components/...`` references at the registered resource ``spec``."""
    if isinstance(node, dict):
        return {k: ("spec" + v if k == "$ref" and v.startswith("#/") else _rewrite_refs(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_rewrite_refs(v) for v in node]
    return node


SPEC = _rewrite_refs(json.loads((Path(__file__).parent / "openapi" / "jira-cloud-v3-schemas.json").read_text()))

# Where the spec's schema and its own response examples disagree, the examples (what Jira sends) win:
# the getChangeLogs example answers `"from": null, "to": null` for a labels change.
NULLABLE = {"ChangeDetails": ("from", "fromString", "to", "toString")}
for _name, _props in NULLABLE.items():
    for _prop in _props:
        SPEC["components"]["schemas"][_name]["properties"][_prop]["type"] = ["string", "null"]
# The getServerInfo example answers `"defaultLocale": {"locale": "en_AU"}`, which the schema lacks.
SPEC["components"]["schemas"]["ServerInformation"]["properties"]["defaultLocale"] = {
    "type": "object", "properties": {"locale": {"type": "string"}}, "additionalProperties": False}


def _open_unions(node):
    """The spec puts ``additionalProperties: false`` beside ``anyOf``/``oneOf`` with no ``properties``
    of its own (e.g. ``JqlQueryClause``), which JSON Schema reads as "no property at all"; the
    parse example answers clauses with properties, so the union's members decide."""
    if isinstance(node, dict):
        if ("anyOf" in node or "oneOf" in node) and "properties" not in node:
            node.pop("additionalProperties", None)
        for value in node.values():
            _open_unions(value)
    elif isinstance(node, list):
        for value in node:
            _open_unions(value)


_open_unions(SPEC)
REGISTRY = Registry().with_resource("spec", Resource.opaque(SPEC))


def validate(instance, schema_name: str) -> None:
    """Validate against ``#/components/schemas/<name>`` with every $ref resolved inside the spec."""
    schema = {"$ref": f"spec#/components/schemas/{schema_name}"}
    Draft202012Validator(schema, registry=REGISTRY, format_checker=None).validate(instance)
