"""Validating Prism Central v3 requests against the vendor's swagger (the reference folder).

The spec is made stricter where it is silent, so a typo in a field name fails:
- ``x-ntnx-enum`` lists become real ``enum`` keywords (a stock validator ignores the extension);
- object schemas that list their properties get ``additionalProperties: false`` unless they say
  otherwise (the spec has no allOf, so this is safe).
And relaxed where the reference README says it is wrong for clients:
- ``readOnly`` is an annotation only (clients send ``kind`` and ``api_version`` back);
- ``required`` is dropped from response schemas of 202 answers (they omit required fields) - the
  tests validate requests, where ``required`` stays.
"""
from __future__ import annotations

import copy
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import httpx
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SWAGGER = Path("/work/shared/reference/nutanix/prism-central-v3.swagger.json")
BASE = "/api/nutanix/v3"
_URI = "urn:prism-central-v3"


def _strict(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _strict(v) for k, v in node.items()}
        if "x-ntnx-enum" in out and "enum" not in out:
            out["enum"] = list(out["x-ntnx-enum"])
        if out.get("type") == "object" and "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_strict(v) for v in node]
    return node


@lru_cache(maxsize=1)
def spec() -> dict:
    return json.loads(SWAGGER.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _registry() -> tuple[Registry, dict]:
    strict = _strict(copy.deepcopy(spec()))
    resource = Resource.from_contents(strict, default_specification=DRAFT4)
    return Registry().with_resource(_URI, resource), strict


def _template_regex(template: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")


@lru_cache(maxsize=1)
def _operations() -> list[tuple[str, re.Pattern, str, dict]]:
    out = []
    for template, item in spec()["paths"].items():
        for method, operation in item.items():
            if method in ("get", "put", "post", "delete", "patch"):
                out.append((method.upper(), _template_regex(template), template, operation))
    # literal paths first: POST /vms/list must not be read as /vms/{uuid}
    out.sort(key=lambda o: o[2].count("{"))
    return out


def operation_for(method: str, path: str) -> tuple[str, dict]:
    """(path template, operation) of the spec that a request matches; AssertionError if none."""
    assert path.startswith(BASE + "/"), f"{path} is not a v3 path"
    rel = path[len(BASE):]
    for op_method, regex, template, operation in _operations():
        if op_method == method.upper() and regex.match(rel):
            return template, operation
    raise AssertionError(f"{method} {rel} is not an operation of the Prism Central v3 spec")


def body_schema_ref(operation: dict) -> str | None:
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "body":
            return parameter["schema"]["$ref"]
    return None


def body_errors(method: str, path: str, body: Any) -> list[str]:
    """Every way a request body breaks the (strict) spec; [] when it conforms."""
    template, operation = operation_for(method, path)
    ref = body_schema_ref(operation)
    if ref is None:
        return [] if body is None else [f"{method} {template} takes no body, got {body!r}"]
    if body is None:
        required = any(p.get("in") == "body" and p.get("required") for p in operation.get("parameters", []))
        return [f"{method} {template} needs a body"] if required else []
    registry, _ = _registry()
    validator = Draft4Validator({"$ref": f"{_URI}{ref}"}, registry=registry)
    return [f"{method} {template}: {'/'.join(map(str, e.absolute_path)) or '<body>'}: {e.message}"
            for e in validator.iter_errors(body)]


def enum_values_used(method: str, path: str, body: Any) -> list[tuple[str, str, list[str]]]:
    """(json path, value, allowed) for every value the body sets where the spec has x-ntnx-enum."""
    _, operation = operation_for(method, path)
    ref = body_schema_ref(operation)
    if ref is None or body is None:
        return []
    definitions = spec()["definitions"]
    found: list[tuple[str, str, list[str]]] = []

    def resolve(schema: dict) -> dict:
        while "$ref" in schema:
            schema = definitions[schema["$ref"].split("/")[-1]]
        return schema

    def walk(schema: dict, value: Any, where: str) -> None:
        schema = resolve(schema)
        if "x-ntnx-enum" in schema and not isinstance(value, (dict, list)):
            found.append((where, value, list(schema["x-ntnx-enum"])))
        if isinstance(value, dict):
            for key, item in value.items():
                sub = schema.get("properties", {}).get(key)
                if sub is None and isinstance(schema.get("additionalProperties"), dict):
                    sub = schema["additionalProperties"]
                if sub is not None:
                    walk(sub, item, f"{where}/{key}")
        elif isinstance(value, list) and "items" in schema:
            for i, item in enumerate(value):
                walk(schema["items"], item, f"{where}/{i}")

    walk({"$ref": ref}, body, "")
    return found


class RequestLog:
    """An httpx request hook that keeps every request the adapter sends (method, path, JSON body)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, Any]] = []

    async def __call__(self, request: httpx.Request) -> None:
        content = request.content          # the body is already built when the hook runs
        body = json.loads(content) if content else None
        self.requests.append((request.method, request.url.path, body))

    def v3(self) -> Iterable[tuple[str, str, Any]]:
        return [r for r in self.requests if r[1].startswith(BASE + "/")]

    def count(self, method: str, fragment: str) -> int:
        return sum(1 for m, p, _ in self.requests if m == method and fragment in p)
