"""App-scoped services injected into handlers by type."""

from __future__ import annotations

from typing import Any

from .exceptions import ImproperlyConfiguredError

__all__ = ("NOT_FOUND", "ServiceRegistry")


class _NotFound:
    def __repr__(self) -> str:
        return "NOT_FOUND"


NOT_FOUND: Any = _NotFound()
_AMBIGUOUS: Any = object()


class ServiceRegistry:
    """Instances an app provides by type (extensions, the app, its config...).

    A handler parameter annotated with a registered type receives the instance.
    Registering an instance also registers it under its base classes, unless two
    instances share one: then that base is ambiguous and asking for it is a
    startup error.
    """

    def __init__(self) -> None:
        self._by_type: dict[type, Any] = {}
        self._explicit: set[type] = set()

    def register(self, instance: Any, as_type: type | None = None) -> None:
        """Provide ``instance`` for parameters annotated with its type(s)."""
        if as_type is not None:
            self._by_type[as_type] = instance
            self._explicit.add(as_type)
            return
        for klass in type(instance).__mro__:
            if klass is object or klass in self._explicit:
                continue
            if klass.__module__ == "builtins":
                continue
            current = self._by_type.get(klass, NOT_FOUND)
            if current is NOT_FOUND or current is instance:
                self._by_type[klass] = instance
            elif klass is type(instance) or type(current) is klass:
                self._by_type[klass] = _AMBIGUOUS
            else:
                self._by_type[klass] = _AMBIGUOUS

    def lookup(self, annotation: Any) -> Any:
        """Return the instance for ``annotation`` or :data:`NOT_FOUND`."""
        if not isinstance(annotation, type):
            return NOT_FOUND
        value = self._by_type.get(annotation, NOT_FOUND)
        if value is _AMBIGUOUS:
            raise ImproperlyConfiguredError(
                f"Several app services are instances of {annotation.__name__}; a parameter "
                f"annotated {annotation.__name__} is ambiguous. Inject one explicitly with "
                "Annotated[..., Depends(lambda: instance)] or register it with "
                "app.services.register(instance, as_type=...)."
            )
        return value

    def __contains__(self, annotation: object) -> bool:
        return isinstance(annotation, type) and annotation in self._by_type
