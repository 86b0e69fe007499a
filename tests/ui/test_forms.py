"""A flow's parameters as form fields, typed from their defaults, and forms read back."""

from __future__ import annotations

import datetime

import pytest

from asyncflow import Flow, Parameter, ParameterError
from asyncflow._ui._forms import ParameterFormError, fields_for, kind_of, parse_field, read_form
from tests.ui.action_flows import sums_flow


@pytest.mark.parametrize(("default", "kind"), [
    (True, "bool"), (3, "int"), (0.5, "float"), ("x", "str"), ([1, 2], "json"),
    ({"a": [1]}, "json"), (None, "any"), (float("nan"), "fixed"),
    (datetime.date(2024, 5, 31), "fixed"), ({1, 2}, "fixed"), ([{1}], "fixed"),
])
def test_a_field_kind_comes_from_the_default(default: object, kind: str) -> None:
    assert kind_of(default) == kind


def test_fields_start_with_their_defaults_and_mark_the_required_ones() -> None:
    fields = {f.name: f for f in fields_for(sums_flow())}
    assert {n: (f.kind, f.required, f.initial) for n, f in fields.items()} == {
        "batch": ("any", True, ""), "label": ("str", False, "sum"),
        "n": ("int", False, "3"), "shout": ("bool", False, "false"),
        "step": ("float", False, "1.0"),
    }
    assert fields["n"].field_name == "p:n"


def test_a_form_gives_typed_values_and_empty_fields_keep_their_defaults() -> None:
    form = {"p:n": " 12 ", "p:step": "2.5", "p:shout": "true", "p:label": "", "p:batch": "[1]"}
    assert read_form(sums_flow(), form) == {"n": 12, "step": 2.5, "shout": True, "batch": [1]}


def test_a_json_or_text_field_is_text_when_it_is_not_json() -> None:
    assert read_form(sums_flow(), {"p:batch": "2024-05-31"}) == {"batch": "2024-05-31"}
    assert read_form(sums_flow(), {"p:batch": '{"day": 1}'}) == {"batch": {"day": 1}}


def test_every_bad_field_is_named_with_what_to_write() -> None:
    form = {"p:n": "four", "p:step": "inf", "p:shout": "yes", "p:nope": "1"}
    with pytest.raises(ParameterFormError) as caught:
        read_form(sums_flow(), form)
    assert caught.value.problems == {
        "nope": "flow 'sums' has no parameter 'nope'; its parameters are "
                "['batch', 'label', 'n', 'shout', 'step']",
        "n": "must be a whole number such as 3, not 'four'",
        "step": "must be a finite number such as 0.5, not 'inf'",
        "shout": "must be true or false, not 'yes'",
        "batch": "is required: give it a value (JSON or text)",
    }
    assert isinstance(caught.value, ParameterError)
    assert str(caught.value).startswith("flow 'sums' was not started: nope: flow 'sums' has")


@pytest.mark.parametrize(("text", "says"), [
    ("[1, 2", "must be JSON such as [1, 2]"),
    ("[NaN]", "NaN is not a JSON number"),
    ("[1e999]", "1e999 is beyond a float's range"),
    ("[" * 65 + "]" * 65, "nests arrays and objects more than 64 levels deep"),
])
def test_a_json_field_is_strict(text: str, says: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_field("json", text)
    assert says in str(caught.value)


def test_a_whole_number_field_refuses_more_digits_than_int_reads() -> None:
    assert parse_field("int", "-" + "9" * 4300) == -int("9" * 4300)
    with pytest.raises(ValueError, match="must be a whole number"):
        parse_field("int", "9" * 4301)


def test_a_default_json_cannot_show_is_not_settable_and_stays() -> None:
    with Flow("dated") as flow:
        Parameter("day", default=datetime.date(2024, 5, 31))
    (field,) = fields_for(flow)
    assert (field.kind, field.initial) == ("fixed", "datetime.date(2024, 5, 31)")
    assert read_form(flow, {"p:day": "2024-06-01"}) == {}
