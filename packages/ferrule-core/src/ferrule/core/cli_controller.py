"""Application commands: ``CLIController`` classes run with ``ferrule cli NAME ...``.

Example:
    >>> class Maintenance(CLIController):
    ...     @command("greet", help="Greet a user.")
    ...     @argument("name", arg_type=str, description="Who to greet.")
    ...     @argument("times", arg_type=int, default=1, description="How often.")
    ...     async def greet(self, name: str, times: int) -> None:
    ...         print(" ".join([f"Hello, {name}!"] * times))

``ferrule cli greet Ada --times 2``: arguments without a default are positional,
in the order they are written; the others are ``--name value`` options. The
app's lifespan runs around the command, so extensions (a database) are ready.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .exceptions import ImproperlyConfiguredError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .app import App

__all__ = ("CLIController", "argument", "build_cli_group", "command")

F = TypeVar("F", bound=Callable[..., Any])
_REQUIRED: Any = object()
_TYPES: dict[type, Any] = {
    int: click.INT,
    float: click.FLOAT,
    str: click.STRING,
    bool: click.BOOL,
}


@dataclass(frozen=True)
class ArgumentSpec:
    name: str
    arg_type: type
    description: str | None
    default: Any

    @property
    def required(self) -> bool:
        return self.default is _REQUIRED


@dataclass(frozen=True)
class CommandSpec:
    name: str
    help: str | None


class CLIController:
    """Base class for groups of application commands; ``self.app`` is the app."""

    def __init__(self, app: App) -> None:
        self.app = app


def command(name: str, help: str | None = None) -> Callable[[F], F]:
    """Expose an async method as ``ferrule cli NAME``."""

    def decorator(fn: F) -> F:
        if not inspect.iscoroutinefunction(fn):
            raise TypeError(f"@command({name!r}) must decorate an async method, got {fn!r}")
        fn.__ferrule_command__ = CommandSpec(name, help)  # type: ignore[attr-defined]
        return fn

    return decorator


def argument(
    name: str,
    arg_type: type = str,
    description: str | None = None,
    default: Any = _REQUIRED,
) -> Callable[[F], F]:
    """Declare an argument of a command (int, float, str or bool)."""
    if arg_type not in _TYPES:
        raise TypeError(f"@argument({name!r}): arg_type must be int, float, str or bool")

    def decorator(fn: F) -> F:
        existing: list[ArgumentSpec] = list(getattr(fn, "__ferrule_arguments__", ()))
        # Decorators apply bottom-up; prepend so the written order is kept.
        existing.insert(0, ArgumentSpec(name, arg_type, description, default))
        fn.__ferrule_arguments__ = existing  # type: ignore[attr-defined]
        return fn

    return decorator


def _controllers(app: App) -> list[CLIController]:
    return [c(app) if isinstance(c, type) else c for c in app.cli_controllers]


def _make_command(app: App, method: Callable[..., Any], spec: CommandSpec) -> click.Command:
    args: list[ArgumentSpec] = list(getattr(method, "__ferrule_arguments__", ()))
    params: list[click.Parameter] = []
    for arg in args:
        ptype = _TYPES[arg.arg_type]
        if arg.required:
            params.append(click.Argument([arg.name], type=ptype, metavar=arg.name.upper()))
        else:
            params.append(
                click.Option(
                    [f"--{arg.name.replace('_', '-')}", arg.name],
                    type=ptype,
                    default=arg.default,
                    show_default=True,
                    help=arg.description,
                )
            )
    arg_help = "\n".join(
        f"  {a.name.upper() if a.required else '--' + a.name}: {a.description}"
        for a in args
        if a.description
    )
    help_text = (spec.help or inspect.getdoc(method) or "") + (
        "\n\n\b\nArguments:\n" + arg_help if arg_help else ""
    )

    def callback(**kwargs: Any) -> None:
        async def main() -> None:
            async with app.lifespan():
                await method(**kwargs)

        asyncio.run(main())

    return click.Command(spec.name, params=params, callback=callback, help=help_text)


def build_cli_group(app: App, name: str = "cli") -> click.Group:
    """A click group with one command per ``@command`` method of the app's controllers."""
    group = click.Group(name, help="Application commands (CLIController classes).")
    for controller in _controllers(app):
        for attr in dir(type(controller)):
            fn = getattr(type(controller), attr, None)
            spec: CommandSpec | None = getattr(fn, "__ferrule_command__", None)
            if spec is None:
                continue
            if spec.name in group.commands:
                raise ImproperlyConfiguredError(
                    f"Two CLI commands are named {spec.name!r}; rename one of them."
                )
            group.add_command(_make_command(app, getattr(controller, attr), spec))
    return group


def run_cli(app: App, args: Sequence[str] | None = None) -> None:
    """Parse ``args`` (default: ``sys.argv[1:]``) and run the command, seed style."""
    build_cli_group(app, name="cli").main(args=list(args) if args is not None else None)
