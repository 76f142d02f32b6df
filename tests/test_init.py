"""The public API: a sorted __all__ whose every name resolves (lazy ones included)."""

from __future__ import annotations

import lambda_magic


def test_all_is_sorted_and_unique() -> None:
    assert lambda_magic.__all__ == sorted(set(lambda_magic.__all__))


def test_every_public_name_resolves() -> None:
    for name in lambda_magic.__all__:
        assert getattr(lambda_magic, name) is not None, name


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        lambda_magic.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("expected AttributeError")
