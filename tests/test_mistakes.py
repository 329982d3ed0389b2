"""The engine's mistake matching: a mistake is named only when it alone explains the student's numbers."""

from __future__ import annotations

import numpy as np
import pytest

from autograder.core.mistakes import Catalogue, match_variant

CATALOGUE = Catalogue("test")
DOUBLED = CATALOGUE.register("doubled", "twice the right size", "Look for a factor 2.")
ADDED = CATALOGUE.register("added_to_itself", "the value added to itself", "Look for x + x.")
SQUARED = CATALOGUE.register("squared", "the square of the right value", "Look for ** 2.")


def _cases(x: list[float]) -> list[tuple[float, float, np.ndarray, None]]:
    return [(1.0, 1.0, np.array(x), None)]


def test_the_one_mistake_that_explains_the_numbers_is_named() -> None:
    x = [0.5, 3.0]
    variants = [(DOUBLED, lambda w1, w2, x: 2 * x), (SQUARED, lambda w1, w2, x: x * x)]
    assert match_variant(_cases(x), [2 * np.array(x)], variants, [np.array(x)]) is DOUBLED
    assert match_variant(_cases(x), [np.array(x) ** 2], variants, [np.array(x)]) is SQUARED


def test_two_mistakes_with_the_same_numbers_name_neither() -> None:
    # Where two slips give the same outputs, the grader cannot tell which one the student made.
    x = [0.5, 3.0]
    variants = [(DOUBLED, lambda w1, w2, x: 2 * x), (ADDED, lambda w1, w2, x: x + x)]
    assert match_variant(_cases(x), [2 * np.array(x)], variants, [np.array(x)]) is None


def test_a_variant_that_equals_the_right_answer_proves_nothing() -> None:
    x = [0.0, 0.0]  # zero input: doubling changes nothing
    variants = [(DOUBLED, lambda w1, w2, x: 2 * x)]
    assert match_variant(_cases(x), [np.array(x)], variants, [np.array(x)]) is None


def test_a_code_is_registered_once() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        CATALOGUE.register("doubled", "again", "again")
    with pytest.raises(ValueError, match="means two things"):
        other = Catalogue("other")
        other.register("doubled", "something else", "hint")
        Catalogue.union("both", CATALOGUE, other)
