"""The state model Prefect 1.x code relies on: NoResult, results passed to states,
state context and cached inputs, the class tree, signals that carry their state."""

from __future__ import annotations

import pickle

import pytest

from asyncflow import signals, states
from asyncflow.results import LocalResult, NoResult, NoResultType, Result
from asyncflow.states import (
    Cached,
    Failed,
    Finished,
    Mapped,
    Pending,
    Retrying,
    Scheduled,
    Skipped,
    State,
    Success,
    TimedOut,
    TriggerFailed,
)


def test_a_state_that_never_ran_holds_no_result_not_a_none_result() -> None:
    pending = Pending()
    assert pending._result is NoResult
    assert pending.result is None
    assert Success(result=None)._result is not NoResult  # a task that returned None
    assert Success(result=None)._result.value is None


def test_no_result_is_one_picklable_object() -> None:
    assert isinstance(NoResult, NoResultType)
    assert repr(NoResult) == "<NoResult>"
    assert pickle.loads(pickle.dumps(NoResult)) is NoResult
    assert pickle.loads(pickle.dumps(Pending()))._result is NoResult


def test_a_result_passed_to_a_state_becomes_its_result_object() -> None:
    stored = Result(value=10)
    state = Success(result=stored)
    assert state.result == 10
    assert state._result is stored
    persisted = LocalResult(value=[1, 2], location="/somewhere/out.json")
    assert Success(result=persisted)._result.location == "/somewhere/out.json"
    assert Success(result=persisted).result == [1, 2]


def test_plain_values_are_wrapped_once() -> None:
    state = Success(result={"k": 1})
    assert isinstance(state._result, Result)
    assert state.result == {"k": 1}
    state.result = 5
    assert state.result == 5 and state._result.value == 5


def test_state_context_and_cached_inputs() -> None:
    state = Pending(cached_inputs={"x": Result(1)}, context={"tags": ["a"]})
    assert state.cached_inputs["x"].value == 1
    assert state.context == {"tags": ["a"]}
    assert Success().context == {}
    assert Success().cached_inputs == {}
    again = pickle.loads(pickle.dumps(state))
    assert again.cached_inputs["x"].value == 1 and again.context == {"tags": ["a"]}


def test_the_class_tree_is_walkable_both_ways() -> None:
    assert TimedOut in Failed.children()
    assert TriggerFailed in Finished.children()
    assert Cached in Success.children()
    assert Success not in Failed.children()
    assert Failed.parents() == [Finished, State]
    assert Retrying.parents() == [Scheduled, Pending, State]
    assert State.parents() == []
    assert set(Scheduled.children()) >= {Retrying}


#: Each ``is_*`` predicate and the class it stands for.
PREDICATES = {
    "is_pending": states.Pending, "is_scheduled": states.Scheduled,
    "is_paused": states.Paused, "is_retrying": states.Retrying,
    "is_running": states.Running, "is_finished": states.Finished,
    "is_successful": states.Success, "is_failed": states.Failed,
    "is_skipped": states.Skipped, "is_cached": states.Cached, "is_mapped": states.Mapped,
    "is_looped": states.Looped, "is_cancelled": states.Cancelled,
    "is_timed_out": states.TimedOut, "is_trigger_failed": states.TriggerFailed,
}


class _Custom(states.TimedOut, states.Skipped):
    """A user's state deriving from two branches of the tree."""


@pytest.mark.parametrize("cls", [*(getattr(states, n) for n in states.__all__), _Custom],
                         ids=lambda c: c.__name__)
def test_each_predicate_is_true_exactly_for_its_class_and_those_derived_from_it(
        cls: type[State]) -> None:
    state = cls()
    said = {name for name in PREDICATES if getattr(state, name)()}
    assert said == {name for name, kind in PREDICATES.items() if isinstance(state, kind)}


@pytest.mark.parametrize(("signal", "state_type"), [
    (signals.FAIL, Failed),
    (signals.SUCCESS, Success),
    (signals.SKIP, Skipped),
    (signals.TRIGGERFAIL, TriggerFailed),
    (signals.RETRY, Retrying),
])
def test_a_signal_carries_the_state_it_ends_in(signal: type[signals.Signal],
                                               state_type: type[State]) -> None:
    raised = signal("why")
    assert type(raised.state) is state_type
    assert raised.state.message == "why"


def test_keyword_arguments_of_a_signal_go_to_its_state() -> None:
    raised = signals.SKIP("not today", result=3, context={"k": "v"})
    assert raised.state.result == 3
    assert raised.state.context == {"k": "v"}


@pytest.mark.parametrize(("state", "signal"), [
    (Failed("x"), signals.FAIL),
    (TriggerFailed("x"), signals.TRIGGERFAIL),
    (Success("x"), signals.SUCCESS),
    (Skipped("x"), signals.SKIP),
    (Retrying("x"), signals.RETRY),
])
def test_signal_from_state_picks_the_signal_of_the_state(state: State,
                                                         signal: type[signals.Signal]) -> None:
    assert signals.signal_from_state(state) is signal


def test_signal_from_state_refuses_a_state_no_signal_ends_in() -> None:
    with pytest.raises(ValueError, match="no signal ends a task run in Pending"):
        signals.signal_from_state(Pending())
    assert signals.signal_from_state(Mapped()) is signals.SUCCESS  # its nearest parent's
    assert signals.signal_from_state(TimedOut()) is signals.FAIL


def test_signals_pickle_with_their_state() -> None:
    again = pickle.loads(pickle.dumps(signals.FAIL("broken", result=7)))
    assert isinstance(again, signals.FAIL)
    assert type(again.state) is Failed and again.state.result == 7
