"""The kit as a pytest plugin (entry point ``pytest11``, module ``trunkline.testing``): it adds
no fixture, marker or test to a run; ``--trunkline-conformance`` keeps only the kit's tests."""

from __future__ import annotations

import pytest

from .suite import ProviderConformance


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("trunkline").addoption(
        "--trunkline-conformance",
        action="store_true",
        default=False,
        help="run only the Trunkline provider conformance checks (ProviderConformance subclasses)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("trunkline_conformance", default=False):
        return
    keep = [i for i in items if _is_kit_item(i)]
    dropped = [i for i in items if not _is_kit_item(i)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = keep


def _is_kit_item(item: pytest.Item) -> bool:
    cls = getattr(item, "cls", None)
    return isinstance(cls, type) and issubclass(cls, ProviderConformance)
