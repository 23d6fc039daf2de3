"""Decoding big Prism answers without stalling the loop (the console's UI thread).

A v3 page of 500 VMs is ~2 MB of JSON. ``json.loads`` of it holds the interpreter lock ~70 ms, and the
million small objects it makes, kept alive until converted, trigger full garbage collections of
100-250 ms for 5,000 VMs. So a list answer is decoded in one worker thread, item by item (the
interpreter switches threads between items), and each item is converted as soon as it is decoded
(its dicts are freed at once, and only the small domain objects survive).
"""
from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

_WHITESPACE = " \t\n\r"
_pool: ThreadPoolExecutor | None = None


def _decoder() -> ThreadPoolExecutor:
    """One thread for every adapter: decoding is bound by the interpreter lock, and several decoding
    threads would only make the loop wait longer for it."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prism-json")
    return _pool


async def decode_off_loop(content: bytes, entity: Callable[[dict], Any] | None = None) -> Any:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_decoder(), decode_in_steps, content, entity)


def decode_in_steps(content: bytes, entity: Callable[[dict], Any] | None = None) -> Any:
    """``json.loads``, the arrays at the top of an object one item at a time; the items of
    ``entities`` passed through ``entity`` when given. Any other shape: plain ``json.loads``."""
    text = content.decode("utf-8")
    try:
        return _object_in_steps(text, entity)
    except (ValueError, IndexError):
        result = json.loads(text)          # not the expected shape (raises if it is not JSON)
        if entity is not None and isinstance(result, dict) and isinstance(result.get("entities"), list):
            result["entities"] = [entity(item) for item in result["entities"]]
        return result


def _skip(text: str, i: int) -> int:
    while text[i] in _WHITESPACE:
        i += 1
    return i


def _object_in_steps(text: str, entity: Callable[[dict], Any] | None) -> dict:
    decoder = json.JSONDecoder()
    i = _skip(text, 0)
    if text[i] != "{":
        raise ValueError("not an object")
    result: dict = {}
    i = _skip(text, i + 1)
    while text[i] != "}":
        key, i = decoder.raw_decode(text, i)
        i = _skip(text, i)
        if text[i] != ":":
            raise ValueError("expected ':'")
        i = _skip(text, i + 1)
        if text[i] == "[":
            convert = entity if key == "entities" else None
            items: list = []
            i = _skip(text, i + 1)
            while text[i] != "]":
                item, i = decoder.raw_decode(text, i)
                items.append(convert(item) if convert is not None else item)
                i = _skip(text, i)
                if text[i] == ",":
                    i = _skip(text, i + 1)
            value, i = items, i + 1
        else:
            value, i = decoder.raw_decode(text, i)
        result[key] = value
        i = _skip(text, i)
        if text[i] == ",":
            i = _skip(text, i + 1)
    if text[i + 1:].strip():
        raise ValueError("extra data")
    return result
