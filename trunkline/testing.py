"""The conformance kit for provider plugins, under the public name ``trunkline.testing``.

Registered as the pytest plugin ``trunkline`` (entry point group ``pytest11``); inert unless a
test class subclasses :class:`ProviderConformance`. See ``core.conformance`` for the checks.
"""

from core.conformance import *  # noqa: F403 -- the kit's public names and its pytest hooks
from core.conformance import __all__ as __all__
from core.conformance import pytest_addoption, pytest_collection_modifyitems  # noqa: F401
