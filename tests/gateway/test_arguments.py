"""The argument check that keeps what would break an upstream session away from it."""

from __future__ import annotations

import json

import pytest

from servers.gateway import problems
from servers.gateway.arguments import check_arguments


@pytest.mark.parametrize(
    "body",
    [
        b'{"timezone": "Europe/Paris"}',
        '{"code": "print(\'h\u00e9llo \U0001f600\')"}'.encode(),  # non-ASCII text and a surrogate *pair* are fine
        b'{"code": "print(1)", "s": "\\ud83d\\ude00"}',  # an escaped pair decodes to one character
        b'{"n": 1e308, "m": -0.0, "big": 123456789012345678901234567890}',
        b"not json at all",
        b"",
    ],
)
def test_ordinary_bodies_pass(body: bytes) -> None:
    assert check_arguments(body, max_depth=32) is None


def test_a_lone_surrogate_is_named_by_its_field_path() -> None:
    rejection = check_arguments(b'{"a": {"b": [1, "ok", "x\\ud800"]}}', max_depth=32)
    assert rejection is not None and rejection.kind is problems.UNENCODABLE_TEXT
    assert "'a.b[2]'" in rejection.detail and "\\ud800" in rejection.detail and "character 1" in rejection.detail
    json.dumps(rejection.detail).encode()  # the message itself is encodable


def test_a_lone_surrogate_in_a_key_or_the_whole_body() -> None:
    key = check_arguments(b'{"a": {"\\udfff": 1}}', max_depth=32)
    assert key is not None and "'a (a key)'" in key.detail
    whole = check_arguments(b'"\\ud800"', max_depth=32)
    assert whole is not None and "'(body)'" in whole.detail
    raw = check_arguments(b'{"t": "\xed\xa0\x80"}', max_depth=32)  # raw surrogate bytes: json decodes them too
    assert raw is not None and raw.kind is problems.UNENCODABLE_TEXT


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e400"])
def test_non_finite_numbers_are_refused(literal: bytes) -> None:
    rejection = check_arguments(b'{"x": [0, ' + literal + b"]}", max_depth=32)
    assert rejection is not None and rejection.kind is problems.INVALID_NUMBER
    assert "'x[1]'" in rejection.detail


def test_depth_is_limited_including_bodies_too_deep_to_parse() -> None:
    assert check_arguments(b"[" * 4 + b"]" * 4, max_depth=4) is None
    too_deep = check_arguments(b"[" * 5 + b"]" * 5, max_depth=4)
    assert too_deep is not None and too_deep.kind is problems.JSON_TOO_DEEP
    hostile = check_arguments(b"[" * 100_000 + b"]" * 100_000, max_depth=32)
    assert hostile is not None and hostile.kind is problems.JSON_TOO_DEEP
