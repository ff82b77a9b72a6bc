"""Replay validation and the similarity to a held-out run, rule by rule."""

from __future__ import annotations

import re

import pytest

from distill.replay import (
    HeldOut,
    lcs_length,
    similarity,
    tool_sequence_similarity,
    validate,
)
from distill.retrieval import Hit

PHRASES = ["i'm not sure", "hope this helps", "as an ai"]
TASK = "cancel my flight"
BODY = ("Task: cancel my flight\n\nSteps:\n1. call get_user_details\n2. call cancel_reservation"
        "\n\nWorked answer:\nThe reservation ZFA04Y was cancelled and refunded to the card.")
GOOD = ("1. call get_user_details to find the reservation\n"
        "2. call cancel_reservation for ZFA04Y, refunded to the card")


def terms(text: str) -> list[str]:
    return re.findall(r"(?u)\b\w\w+\b", text.lower())


def hit(steps=("call get_user_details", "call cancel_reservation"), body=BODY) -> Hit:
    return Hit("pb_1", 5.0, "tool_use: cancel", "t1", "tool_use", list(steps),
               ["cancel_reservation", "get_user_details"], body)


def reasons(answer, hits=None, error=None) -> list[str]:
    hits = [hit()] if hits is None else hits
    return validate(TASK, answer, hits, PHRASES, terms, error).reasons


def test_a_grounded_step_shaped_answer_passes():
    assert reasons(GOOD) == []


@pytest.mark.parametrize("answer, expected", [
    ("", ["empty_answer"]),
    ("   \n", ["empty_answer"]),
    (None, ["empty_answer"]),
    ("1. cancelled\n2. refunded", ["too_short", "not_grounded"]),
    ("call get_user_details then cancel_reservation for ZFA04Y, refunded", ["not_step_shaped"]),
    (GOOD + "\nI\u2019m not sure it worked. Hope this helps!", ["hedge_or_filler"]),
    ("1. Look at the booking in the system\n2. Tell the customer it is done now",
     ["not_grounded"]),
])
def test_each_rule_names_its_reason(answer, expected):
    assert reasons(answer) == expected


def test_no_steps_in_the_playbook_means_no_step_shape_is_asked():
    plain = hit(steps=(), body=BODY)
    assert reasons("call get_user_details then cancel_reservation for ZFA04Y, refunded",
                   [plain]) == []


def test_phrases_match_whole_words_only():
    assert reasons(GOOD + "\nThe chaos an airline sees.") == []  # "as an ai" inside words


def test_empty_retrieval_and_model_failure_are_reasons_of_their_own():
    assert reasons(None, hits=[]) == ["empty_retrieval"]
    result = validate(TASK, None, [hit()], PHRASES, terms, "no reply within 1 s")
    assert (result.passed, result.reasons, result.details) == (
        False, ["model_call_failed"], ["no reply within 1 s"])


def test_tool_sequence_overlap_is_order_aware():
    assert lcs_length(["a", "b", "c"], ["a", "c"]) == 2
    assert tool_sequence_similarity(["a", "b"], ["a", "a", "b"]) == 1.0
    assert tool_sequence_similarity(["b", "a"], ["a", "b"]) == 0.5
    assert tool_sequence_similarity(["x"], ["a", "b"]) == 0.0


def test_similarity_uses_tools_for_tool_runs_and_key_terms_otherwise():
    tool_run = HeldOut("t9", "r9", "tool_use", TASK, "done",
                       ["get_user_details", "cancel_reservation"])
    assert similarity(GOOD, tool_run, [hit()], terms) == ("tool_call_sequence", 1.0)
    assert similarity("call cancel_reservation", tool_run, [hit()], terms) == (
        "tool_call_sequence", pytest.approx(2 / 3))

    text_run = HeldOut("t8", "r8", "math", "sum", "The total is 12000 dollars", [])
    method, value = similarity("The total invested is 12000", text_run, [hit()], terms)
    # key terms: {total, 12000, dollars} and {total, invested, 12000}
    assert (method, value) == ("key_terms", pytest.approx(2 / 4))
    assert similarity("anything", HeldOut("t7", "r7", "x", "q", "ok", []), [], terms) == (
        "key_terms", None)
