"""What every control-room router shares: the role guards (made by :func:`analysis.web.app.role_guards`)."""

from typing import Any, Callable, NamedTuple

from analysis.web.auth import Identity

#: OpenAPI ``responses`` of a route (FastAPI's type for them)
Responses = dict[int | str, dict[str, Any]]


class Guards(NamedTuple):
    """The role dependencies every router shares: the caller's identity, and the viewer and operator guards.

    A router binds the local aliases ``Viewer = Annotated[Identity, Depends(guards.require_viewer)]`` and
    ``Operator = Annotated[Identity, Depends(guards.require_operator)]`` (FastAPI resolves those annotations
    at definition time; a type checker sees an :class:`~analysis.web.auth.Identity`)."""

    role_of: Callable[..., Identity]  # the dependency giving the caller's Identity (no role required)
    viewer: Any  # Annotated[Identity, Depends(require_viewer)], for FastAPI only (not a type to a type checker)
    operator: Any  # Annotated[Identity, Depends(require_operator)], likewise
    require_viewer: Callable[..., Identity]  # the viewer dependency itself, for ``Depends(...)``
    require_operator: Callable[..., Identity]  # the operator dependency itself


__all__ = ["Guards", "Responses"]
