"""A small checker of response bodies against the Prism Central v3 swagger: every field the body carries
that the schema names must have the schema's type, and enum-like strings (``x-ntnx-enum``) a listed
value. Required fields are not enforced (the reference README: 202 bodies omit them, and the list
entities omit ``api_version``)."""
from __future__ import annotations

import json
from functools import lru_cache

from prismkit import REFERENCE

_TYPES = {"string": str, "integer": int, "boolean": bool, "array": list, "object": dict, "number": (int, float)}


@lru_cache(maxsize=1)
def swagger() -> dict:
    return json.loads((REFERENCE / "prism-central-v3.swagger.json").read_text(encoding="utf-8"))


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = swagger()["definitions"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def problems(body, schema: dict | str, path: str = "") -> list[str]:
    if isinstance(schema, str):
        schema = {"$ref": f"#/definitions/{schema}"}
    schema = _resolve(schema)
    out: list[str] = []
    if body is None:
        return out
    t = schema.get("type") or ("object" if "properties" in schema else None)
    if t:
        py = _TYPES[t]
        if isinstance(body, bool) and t in ("integer", "number"):
            return [f"{path}: boolean where {t} expected"]
        if not isinstance(body, py):
            return [f"{path}: {type(body).__name__} where {t} expected"]
    enum = schema.get("x-ntnx-enum") or schema.get("enum")
    if enum and isinstance(body, str) and body not in enum:
        out.append(f"{path}: {body!r} is not one of {enum}")
    if isinstance(body, dict):
        for key, sub in (schema.get("properties") or {}).items():
            if key in body:
                out += problems(body[key], sub, f"{path}.{key}")
    if isinstance(body, list) and "items" in schema:
        for i, item in enumerate(body):
            out += problems(item, schema["items"], f"{path}[{i}]")
    return out

