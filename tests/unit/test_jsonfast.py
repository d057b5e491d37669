"""host.jsonfast must read and write exactly what the json module does."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from host import jsonfast

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_round_trip_matches_json(value):
    text = jsonfast.dumps(value)
    assert text == json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    assert jsonfast.loads(text) == json.loads(text)
    assert jsonfast.loads(f" \n{json.dumps(value, indent=2)}\t ") == value


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_arbitrary_text_parses_or_fails_like_json(text):
    try:
        expected = ("ok", json.loads(text))
    except ValueError:
        expected = ("error", None)
    except RecursionError:
        return
    try:
        actual = ("ok", jsonfast.loads(text))
    except ValueError:
        actual = ("error", None)
    if expected[0] == "ok" and isinstance(expected[1], float) and math.isnan(expected[1]):
        assert actual[0] == "ok" and math.isnan(actual[1])
    else:
        assert actual == expected


@pytest.mark.parametrize("text", ["", " ", "[1, 2", '{"a": }', "{}}", "01", "[1,]", '"\\x"', "nul"])
def test_errors_are_value_errors(text):
    with pytest.raises(ValueError):
        jsonfast.loads(text)


def test_nan_and_infinity_are_not_written():
    for value in (math.nan, math.inf, {"id": -math.inf}):
        with pytest.raises(ValueError):
            jsonfast.dumps(value)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_pretty_json_is_json_dumps_indent_2(value):
    from host.catalog.pretty import pretty_json

    assert pretty_json(value) == json.dumps(value, indent=2, ensure_ascii=False)


def test_pretty_json_special_floats_like_json():
    from host.catalog.pretty import pretty_json

    value = {"a": [math.inf, -math.inf, 1e300, -0.0, 0.1]}
    assert pretty_json(value) == json.dumps(value, indent=2, ensure_ascii=False)
    assert pretty_json([math.nan]) == "[\n  NaN\n]"
