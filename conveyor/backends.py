"""Device backends registered by name and imported lazily (python-can style).

Each device family keeps a registry ``name → (module, class)``; :func:`import_backend`
resolves a name, importing the module only then, so a missing vendor SDK breaks only
that backend. The family chooses the exceptions its callers see.
"""

from __future__ import annotations

import importlib
from typing import Mapping


def import_backend(
    registry: Mapping[str, tuple[str, str]],
    name: str,
    family: str,
    *,
    unknown_error: type[Exception],
    unavailable_error: type[Exception],
) -> type:
    """The class registered as ``name`` in ``registry``.

    Raises ``unknown_error`` for a name not in the registry and ``unavailable_error``
    (chained) when its module cannot be imported here.
    """
    try:
        module_name, class_name = registry[name]
    except KeyError:
        raise unknown_error(f"expected {family} backend one of {sorted(registry)}, got {name!r}") from None
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise unavailable_error(f"{family} backend {name!r} cannot be imported here: {exc}") from exc
    return getattr(module, class_name)
