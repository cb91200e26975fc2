"""The tests' one way of waiting: a condition with a deadline."""

from __future__ import annotations

import threading

import pytest
from tests.support.waiting import wait_for


def test_returns_the_first_true_answer_at_once() -> None:
    answers = iter([0, [], "ready", "later"])
    assert wait_for(lambda: next(answers), what="an answer", timeout=5) == "ready"


def test_waits_for_another_thread() -> None:
    happened = threading.Event()
    threading.Timer(0.05, happened.set).start()
    assert wait_for(happened.is_set, what="the timer", timeout=10)


def test_fails_at_the_deadline_saying_what_it_waited_for() -> None:
    with pytest.raises(AssertionError, match=r"waited 0.05 s for the moon; last answer: \[\]"):
        wait_for(list, what="the moon", timeout=0.05)
