"""The tables the host derives from each provider hook's one declaration in ``hookspecs``:
its result model (the spec's return annotation) and its capability."""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel, TypeAdapter

from . import hookspecs, models
from .models import CallingWindow


def _declared_result(hook: str) -> tuple[type[BaseModel], bool] | None:
    """A provider hook's result model, from its spec's return annotation: ``(Model, many)``,
    or ``None`` for a hook declared ``-> None``."""
    annotation = getattr(hookspecs, hook).__annotations__["return"]
    resolved = eval(annotation, {"models": models}) if isinstance(annotation, str) else annotation
    if resolved is None:
        return None
    if typing.get_origin(resolved) is list:
        return typing.get_args(resolved)[0], True
    return resolved, False


#: What each provider-targeted hook must return: the model, and whether a list of it.
HOOK_RESULTS: dict[str, tuple[type[BaseModel], bool]] = {
    hook: result
    for hook in hookspecs.PROVIDER_HOOKS
    if (result := _declared_result(hook)) is not None
}
#: Provider hooks declared ``-> None`` (``release_number``): returning ``None`` is success.
NO_RESULT_HOOKS: frozenset[str] = frozenset(set(hookspecs.PROVIDER_HOOKS) - set(HOOK_RESULTS))
#: The host validates every result with these (built once from ``HOOK_RESULTS``).
_RESULT_TYPES: dict[str, TypeAdapter[Any]] = {
    hook: TypeAdapter(list[model] if many else model)  # type: ignore[valid-type]
    for hook, (model, many) in HOOK_RESULTS.items()
}
_WINDOWS: TypeAdapter[list[CallingWindow]] = TypeAdapter(list[CallingWindow])
#: The capability a provider must declare for a hook to be called.
HOOK_CAPABILITY: dict[str, str] = {
    hook: declared.capability for hook, declared in hookspecs.PROVIDER_HOOKS.items()
}
