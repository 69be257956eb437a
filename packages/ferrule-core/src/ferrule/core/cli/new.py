"""``ferrule new``: create a ready-to-run project from the bundled template."""

from __future__ import annotations

import keyword
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from string import Template

import click

__all__ = ("BATTERIES", "create_project", "new")

TEMPLATE_DIR = Path(__file__).parent / "project_template"
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")
_RENAMES = {"gitignore": ".gitignore", "env.example": ".env.example", "env": ".env"}


@dataclass(frozen=True)
class Battery:
    """What ``--with NAME`` adds to a generated project."""

    extension_import: str
    extension_code: str
    config: str


BATTERIES: dict[str, Battery] = {
    "database": Battery(
        extension_import='"app.extensions:db"',
        extension_code=(
            "\nfrom ferrule.database import SqlDatabase\n\n"
            'db = SqlDatabase(db_name="db", configs_name="SQL_DATABASE")\n'
        ),
        config=(
            "    SQL_DATABASE: dict[str, object] = {\n"
            '        "DATABASE_URI": "sqlite+aiosqlite:///./app.db",\n'
            '        "SESSION_NAME": "session",\n'
            "    }\n"
        ),
    ),
}


def _title(name: str) -> str:
    return " ".join(part.capitalize() for part in re.split(r"[-_]+", name) if part)


def create_project(target: Path, name: str, batteries: list[str]) -> list[Path]:
    """Render the template into ``target`` (which must be missing or empty)."""
    if not _NAME.match(name) or keyword.iskeyword(name):
        raise click.BadParameter(
            f"{name!r} is not a valid project name: use letters, digits, '-' or '_', "
            "starting with a letter.",
            param_hint="NAME",
        )
    unknown = [b for b in batteries if b not in BATTERIES]
    if unknown:
        raise click.BadParameter(
            f"unknown batteries {', '.join(unknown)}; available: {', '.join(sorted(BATTERIES))}.",
            param_hint="--with",
        )
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise click.ClickException(
            f"{target} already exists and is not empty; choose another name or directory."
        )
    chosen = [BATTERIES[b] for b in batteries]
    extras = ",".join(batteries)
    values = {
        "name": name,
        "title": _title(name),
        "core_requirement": f"ferrule-core{f'[{extras}]' if extras else ''}>=0.1,<0.2",
        "secret_key": secrets.token_urlsafe(50),
        "extensions": "[" + ", ".join(b.extension_import for b in chosen) + "]",
        "extra_config": "".join(b.config for b in chosen),
        "extension_code": "".join(b.extension_code for b in chosen) or "\n# None yet.\n",
    }
    written: list[Path] = []
    for source in sorted(TEMPLATE_DIR.rglob("*.tmpl")):
        relative = source.relative_to(TEMPLATE_DIR).with_suffix("")
        relative = relative.with_name(_RENAMES.get(relative.name, relative.name))
        if relative.name == "extensions.py" and not chosen:
            continue
        dest = target / relative
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(Template(source.read_text("utf-8")).substitute(values), "utf-8")
        if dest.name == ".env":
            dest.chmod(0o600)  # it holds the SECRET_KEY: readable by its owner only
        written.append(dest)
    return written


@click.command()
@click.argument("name")
@click.option(
    "--with",
    "with_",
    default="",
    metavar="BATTERY[,BATTERY]",
    help=f"Batteries to include ({', '.join(sorted(BATTERIES))}).",
)
@click.option(
    "--directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to create the project (default: ./NAME).",
)
def new(name: str, with_: str, directory: Path | None) -> None:
    """Create a new project NAME with an app package, tests and configuration."""
    batteries = [b.strip() for b in with_.split(",") if b.strip()]
    target = directory or Path.cwd() / name
    files = create_project(target, name, batteries)
    click.secho(f"Created {name} in {target} ({len(files)} files).", fg="green")
    click.echo(f"\n  cd {target}\n  uv run pytest\n  uv run ferrule run --reload\n")
    click.echo("A SECRET_KEY was generated into .env (git-ignored).")
