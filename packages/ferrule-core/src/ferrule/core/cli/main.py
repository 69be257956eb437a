"""The ``ferrule`` command group, with plugin command groups mounted."""

from __future__ import annotations

import os
from typing import Any

import click

from ..plugins import discover_plugins
from .loader import load_app, resolve_target

__all__ = ("main",)

_PLUGIN_COMMANDS = "ferrule.plugin_commands"

app_option = click.option(
    "--app",
    "app_path",
    default=None,
    metavar="MODULE:ATTR",
    help="The application (App, App subclass or factory). Default: $FERRULE_APP, "
    "then app:Application, then app:app.",
)


class FerruleGroup(click.Group):
    """A group that also lists the command groups contributed by plugins.

    Plugins are discovered at most once per invocation (cached on the root
    context, so in-process invocations such as tests see the current set), and
    only when a name is not a built-in command or the help is shown.
    """

    def _plugins(self, ctx: click.Context) -> dict[str, click.Command]:
        meta = ctx.find_root().meta
        commands: dict[str, click.Command] | None = meta.get(_PLUGIN_COMMANDS)
        if commands is None:
            commands = meta[_PLUGIN_COMMANDS] = {}
            for info in discover_plugins(log_errors=False):
                error = info.error
                contributed: list[Any] = []
                if error is None:
                    get = getattr(info.plugin, "cli_commands", None)
                    try:
                        contributed = list(get() if get else ())
                    except Exception as exc:  # a broken plugin must not break the CLI
                        error = f"{type(exc).__name__}: {exc}"
                if error is not None:
                    click.secho(
                        f"warning: plugin {info.name!r} failed to load: {error}",
                        err=True,
                        fg="yellow",
                    )
                    continue
                for cmd in contributed:
                    if isinstance(cmd, click.Command) and cmd.name:
                        commands.setdefault(cmd.name, cmd)
        return commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._plugins(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name) or self._plugins(ctx).get(cmd_name)


@click.group(cls=FerruleGroup)
@click.version_option(package_name="ferrule-core", prog_name="ferrule")
def main() -> None:
    """Ferrule: a batteries-included, async-first web framework."""


@main.command()
@click.argument("app", required=False, metavar="[MODULE:ATTR]")
@click.option("--host", default=None, help="Bind address (default: HOST from config).")
@click.option(
    "--port",
    default=None,
    type=click.IntRange(0, 65535),
    help="Port (default: $PORT, then PORT config).",
)
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--log-level", default="info", show_default=True)
def run(
    app: str | None,
    host: str | None,
    port: int | None,
    reload: bool,
    workers: int,
    log_level: str,
) -> None:
    """Serve the application with uvicorn."""
    import uvicorn

    if reload and workers > 1:
        raise click.UsageError("--reload and --workers > 1 cannot be combined.")
    target = resolve_target(app)
    instance = target.instantiate()
    cfg = instance.config
    bind_host = host or cfg.HOST
    if port is None:
        port = _env_port()
    bind_port = cfg.PORT if port is None else port
    kwargs: dict[str, Any] = {
        "host": bind_host,
        "port": bind_port,
        "log_level": log_level,
        "lifespan": "on",
        "proxy_headers": False,
    }
    if reload or workers > 1:
        uvicorn.run(
            target.import_string, factory=target.factory, reload=reload, workers=workers, **kwargs
        )
    else:
        uvicorn.run(instance, **kwargs)


def _env_port() -> int | None:
    raw = os.environ.get("PORT", "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise click.UsageError(f"PORT={raw!r} is not a port number (0-65535); fix or unset it.")
    return value


@main.command()
@app_option
def routes(app_path: str | None) -> None:
    """List the application's routes."""
    instance = load_app(app_path)
    rows = [
        (",".join(r.methods), r.rule, r.endpoint, r.handler_name)
        for r in sorted(instance.routes, key=lambda r: (r.rule, r.methods))
    ]
    header = ("METHODS", "RULE", "ENDPOINT", "HANDLER")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        click.echo("  ".join(str(col).ljust(widths[i]) for i, col in enumerate(row)).rstrip())


@main.command()
def plugins() -> None:
    """List installed Ferrule plugins with their versions."""
    found = discover_plugins(include_disabled=True, log_errors=False)
    if not found:
        click.echo("No ferrule plugins installed.")
        return
    for info in found:
        status = "disabled" if info.disabled else "ok" if info.ok else f"error: {info.error}"
        dist = f"{info.distribution} {info.version}" if info.distribution else info.value
        click.echo(f"{info.name:<16} {dist:<32} {status}")
