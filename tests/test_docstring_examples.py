"""Examples in docstrings run as tests, so the numbers they show are computed, not typed in."""

import doctest
import importlib
import pkgutil

import pytest

import advisor


def _modules_with_examples() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(advisor.__path__, prefix="advisor."):
        tests = doctest.DocTestFinder().find(importlib.import_module(info.name))
        if any(t.examples for t in tests):
            names.append(info.name)
    return names


MODULES = _modules_with_examples()


def test_some_modules_have_examples():
    assert "advisor.evaluation" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
