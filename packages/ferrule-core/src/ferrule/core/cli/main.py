"""The ``ferrule`` command group, with plugin command groups mounted."""

from __future__ import annotations

import os
from typing import Any

import click

from ..exceptions import FerruleError
from ..plugins import discover_plugins
from .loader import AppTarget, load_app, resolve_target
from .new import new

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


app_argument = click.argument("app_arg", required=False, metavar="[MODULE:ATTR]")


def _target(app_path: str | None, app_arg: str | None) -> AppTarget:
    if app_path and app_arg and app_path != app_arg:
        raise click.UsageError("Give the app once: as an argument or with --app.")
    return resolve_target(app_path or app_arg)


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

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FerruleError as exc:
            # Startup and configuration errors are one "Error:" line, not a traceback.
            raise click.ClickException(str(exc)) from exc

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._plugins(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name) or self._plugins(ctx).get(cmd_name)


@click.group(cls=FerruleGroup)
@click.version_option(package_name="ferrule-core", prog_name="ferrule")
def main() -> None:
    """Ferrule: a batteries-included, async-first web framework."""


@main.command()
@app_argument
@app_option
@click.option("--host", default=None, help="Bind address (default: HOST from config).")
@click.option(
    "--port",
    default=None,
    type=click.IntRange(0, 65535),
    help="Port (default: $PORT, then PORT config).",
)
@click.option("--reload", is_flag=True, help="Development: restart on code changes.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Production: number of worker processes.",
)
@click.option(
    "--timeout-graceful-shutdown",
    type=click.IntRange(min=0),
    default=None,
    help="Seconds to let in-flight requests finish on shutdown.",
)
@click.option(
    "--server",
    type=click.Choice(["uvicorn", "granian"]),
    default="uvicorn",
    show_default=True,
    help="ASGI server (granian must be installed).",
)
@click.option("--log-level", default=None, help="Server log level (default: LOG_LEVEL).")
def run(
    app_arg: str | None,
    app_path: str | None,
    host: str | None,
    port: int | None,
    reload: bool,
    workers: int,
    timeout_graceful_shutdown: int | None,
    server: str,
    log_level: str | None,
) -> None:
    """Serve the application (uvicorn by default)."""
    if reload and workers > 1:
        raise click.UsageError("--reload and --workers > 1 cannot be combined.")
    target = _target(app_path, app_arg)
    instance = target.instantiate()
    cfg = instance.config
    bind_host = host or cfg.HOST
    if port is None:
        port = _env_port()
    bind_port = cfg.PORT if port is None else port
    level = (log_level or cfg.LOG_LEVEL).lower()
    if server == "granian":
        _run_granian(
            target, bind_host, bind_port, reload, workers, level, timeout_graceful_shutdown
        )
        return
    import uvicorn

    kwargs: dict[str, Any] = {
        "host": bind_host,
        "port": bind_port,
        "log_level": level,
        "lifespan": "on",
        "proxy_headers": False,
        # The app configures logging (LOG_*, LOGGERS) and logs access itself.
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": timeout_graceful_shutdown,
    }
    if reload or workers > 1:
        uvicorn.run(
            target.import_string, factory=target.factory, reload=reload, workers=workers, **kwargs
        )
    else:
        uvicorn.run(instance, **kwargs)


def _run_granian(
    target: AppTarget,
    host: str,
    port: int,
    reload: bool,
    workers: int,
    level: str,
    graceful: int | None,
) -> None:
    try:
        from granian import Granian  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        raise click.ClickException(
            "--server granian needs the granian package: pip install granian"
        ) from None
    options: dict[str, Any] = {
        "address": host,
        "port": port,
        "interface": "asgi",
        "workers": workers,
        "reload": reload,
        "factory": target.factory,
        "log_level": level,
        "log_access": False,  # the app logs access itself (ferrule.access)
    }
    if graceful is not None:
        options["workers_kill_timeout"] = graceful
    server = Granian(target.import_string, **options)
    server.serve()


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
@app_argument
@app_option
def routes(app_arg: str | None, app_path: str | None) -> None:
    """List the application's routes."""
    instance = _target(app_path, app_arg).instantiate()
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


main.add_command(new)


@main.command()
@app_argument
@app_option
@click.option("--deploy", is_flag=True, help="Also run the production checks.")
def check(app_arg: str | None, app_path: str | None, deploy: bool) -> None:
    """Run the startup checks of the app and its extensions (exit 1 on errors)."""
    from ..checks import CheckMessage, run_checks
    from ..exceptions import ImproperlyConfiguredError

    try:
        instance = _target(app_path, app_arg).instantiate()
        messages = run_checks(instance, deploy=deploy)
    except (ImproperlyConfiguredError, click.ClickException) as exc:
        text = exc.format_message() if isinstance(exc, click.ClickException) else str(exc)
        if isinstance(exc, click.ClickException) and exc.exit_code == 2:
            raise
        messages = [CheckMessage("core.E001", "ERROR", text, "Fix the configuration.")]
    colours = {"ERROR": "red", "WARNING": "yellow", "INFO": "cyan"}
    for message in messages:
        click.secho(str(message), fg=colours[message.level], err=message.is_error)
    errors = sum(m.is_error for m in messages)
    if not messages:
        click.secho("System check identified no issues.", fg="green")
        return
    click.echo(f"System check identified {len(messages)} issue(s) ({errors} error(s)).")
    if errors:
        raise SystemExit(1)


@main.command()
@app_argument
@app_option
@click.option("-c", "--command", "code", default=None, help="Run this code instead of a prompt.")
def shell(app_arg: str | None, app_path: str | None, code: str | None) -> None:
    """An interactive Python shell with the app loaded and its lifespan running.

    The namespace has ``app``, ``config`` and ``run`` (await a coroutine:
    ``run(some_async_call())``). IPython is used when installed.
    """
    import asyncio

    instance = _target(app_path, app_arg).instantiate()
    loop = asyncio.new_event_loop()
    namespace: dict[str, Any] = {
        "app": instance,
        "config": instance.config,
        "run": loop.run_until_complete,
    }
    try:
        loop.run_until_complete(instance.startup())
    except BaseException:
        loop.close()
        raise
    try:
        if code is not None:
            exec(compile(code, "<ferrule shell -c>", "exec"), namespace)
        else:
            _interact(namespace, instance.config.APP_NAME)
    finally:
        loop.run_until_complete(instance.shutdown())
        loop.close()


def _interact(namespace: dict[str, Any], name: str) -> None:
    banner = f"Ferrule shell for {name!r}: app, config, run(coroutine) are available."
    try:
        import IPython  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        import code as code_module

        code_module.interact(banner=banner, local=namespace, exitmsg="")
    else:
        IPython.start_ipython(argv=[], user_ns=namespace, display_banner=False)


class AppCommands(click.Group):
    """``ferrule cli``: the app's ``CLIController`` commands, loaded from ``--app``."""

    def _commands(self, ctx: click.Context) -> click.Group:
        group: click.Group | None = ctx.meta.get("ferrule.cli_group")
        if group is None:
            from ..cli_controller import build_cli_group

            group = build_cli_group(load_app(ctx.params.get("app_path")))
            ctx.meta["ferrule.cli_group"] = group
        return group

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self._commands(ctx).commands)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._commands(ctx).commands.get(cmd_name)


@main.group(cls=AppCommands)
@click.option(
    "--app",
    "app_path",
    default=None,
    metavar="MODULE:ATTR",
    is_eager=True,  # parsed before --help, which needs the app to list its commands
    help="The application (default: $FERRULE_APP, then app:Application, then app:app).",
)
def cli(app_path: str | None) -> None:
    """Run the application's own commands (CLIController classes).

    Arguments without a default are positional, in declaration order; the
    others are --name value options. The app's lifespan runs around the command.
    """
