"""Secrets in plugin settings: ``{ env = "NAME" }`` references and redaction.

A settings value written as ``{ env = "NAME" }`` in ``plugins.toml`` is replaced, before the
plugin's model validates it, by the environment variable ``NAME``. An unset variable leaves the
key out (the model's default applies, usually ``None``: the plugin is "not configured") and is
recorded so that errors and status can name the variable to set. Fields typed ``SecretStr``, and
any key that looks like a secret, are redacted wherever settings are shown or traced; so are
verification codes (a hook's ``code`` argument, a result's ``display_code``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, SecretStr

__all__ = ["REDACTED", "SecretStr", "looks_secret", "redact", "resolve_env_refs"]

REDACTED = "**********"
_SECRET_KEY = re.compile(r"(secret|token|password|passwd|api_?key|private|credential|auth)", re.I)
#: Names that carry a caller-ID verification code (hook arguments, results, carrier fields).
VERIFICATION_CODE_KEYS = frozenset({"code", "display_code", "verification_code", "validation_code"})


def looks_secret(key: str) -> bool:
    """Whether a key names a secret (``auth_token``, ``api_key``...) or a verification code."""
    return key.lower() in VERIFICATION_CODE_KEYS or bool(_SECRET_KEY.search(key))


def _is_env_ref(value: Any) -> bool:
    return isinstance(value, Mapping) and set(value) == {"env"} and isinstance(value["env"], str)


def resolve_env_refs(
    table: Mapping[str, Any], environ: Mapping[str, str] | None = None, _prefix: str = ""
) -> tuple[dict[str, Any], dict[str, str]]:
    """Replace ``{env = NAME}`` values with the environment's.

    Returns the resolved table and ``{dotted.key: NAME}`` for every variable that was unset.
    """
    env = os.environ if environ is None else environ
    resolved: dict[str, Any] = {}
    missing: dict[str, str] = {}
    for key, value in table.items():
        dotted = f"{_prefix}{key}"
        if _is_env_ref(value):
            name = value["env"]
            if name in env and env[name] != "":
                resolved[key] = env[name]
            else:
                missing[dotted] = name
        elif isinstance(value, Mapping):
            inner, inner_missing = resolve_env_refs(value, env, dotted + ".")
            resolved[key] = inner
            missing.update(inner_missing)
        else:
            resolved[key] = value
    return resolved, missing


def redact(value: Any, key: str = "") -> Any:
    """A copy of settings (a model, mapping or value) fit to show: secrets replaced."""
    if isinstance(value, BaseModel):
        return {k: redact(getattr(value, k), k) for k in type(value).model_fields}
    if isinstance(value, SecretStr):
        return REDACTED if value.get_secret_value() else ""
    if isinstance(value, Mapping):
        if _is_env_ref(value):
            return {"env": value["env"]}
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(v, key) for v in value]
    if key and looks_secret(key) and isinstance(value, str) and value:
        return REDACTED
    return value
