"""DotDict: a dict whose keys are attributes too."""

from __future__ import annotations

import json
import pickle

import pytest

from asyncflow import DotDict


def test_keys_read_and_write_as_attributes() -> None:
    d = DotDict({"a": 1}, b=2)
    d.c = 3
    assert (d.a, d.b, d["c"]) == (1, 2, 3)
    del d.a
    assert d == {"b": 2, "c": 3}


def test_a_missing_key_is_an_attribute_error_naming_the_keys() -> None:
    d = DotDict(a=1)
    with pytest.raises(AttributeError, match=r"no key 'missing'; its keys are \['a'\]"):
        _ = d.missing
    assert getattr(d, "missing", "default") == "default"
    with pytest.raises(AttributeError, match="no key 'missing'"):
        del d.missing


def test_keys_named_like_dict_methods_are_set_by_indexing() -> None:
    d = DotDict()
    with pytest.raises(AttributeError, match=r"d\['items'\] = \.\.\."):
        d.items = 1  # type: ignore[method-assign,assignment]
    d["items"] = 1
    assert d["items"] == 1 and callable(d.items)


def test_copy_and_to_dict() -> None:
    d = DotDict(a=DotDict(b=[DotDict(c=1)]))
    copied = d.copy()
    assert type(copied) is DotDict and copied == d and copied is not d
    plain = d.to_dict()
    assert plain == {"a": {"b": [{"c": 1}]}}
    assert type(plain["a"]) is dict and type(plain["a"]["b"][0]) is dict


def test_pickles_and_serializes_as_a_dict() -> None:
    d = DotDict(a=1, b=DotDict(c=2))
    back = pickle.loads(pickle.dumps(d))
    assert type(back) is DotDict and back.b.c == 2
    assert json.loads(json.dumps(d)) == {"a": 1, "b": {"c": 2}}
    assert repr(d) == "DotDict({'a': 1, 'b': DotDict({'c': 2})})"
