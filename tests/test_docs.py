"""Run every ```python and ```console example in docs/*.md, so the docs cannot rot.

The blocks of one page run in page order inside a fresh temporary working
directory (which is on ``sys.path``):

* ```python blocks share one namespace, like a doctest session. The namespace
  is a real module registered in ``sys.modules`` so ``typing.get_type_hints``
  resolves the annotations of classes and handlers the examples define. A block
  may use top-level ``await`` (e.g. ``async with TestClient(app) as client:``).
* ```console blocks are shell sessions: each ``$ ferrule ...`` line is a command,
  the lines after it (up to the next ``$ `` line) its expected output. The
  command runs in-process with click's ``CliRunner`` against
  ``ferrule.core.cli.main``, in the page's working directory and environment, as
  a fresh process would: modules imported from the working directory by earlier
  blocks are hidden from it, and the logging set up by earlier blocks is
  restored after it (the log sinks its app installs are closed).
  ``NAME=value`` words before ``ferrule`` set environment variables for that
  command only. Only ``ferrule`` commands can run; show others in a ```bash block.

  The output (stdout and stderr, as a terminal shows them, without colour) is
  compared line by line after ``rstrip``, ignoring trailing blank lines. A line
  that is just ``...`` matches any number of lines (none included); ``...``
  inside a line matches any text on that line. A last expected line
  ``[exit N]`` asserts the exit code; without it the command must exit 0.

Fences in other languages (```bash, ```toml, ```text...) are not run, nor are
```python no-run and ```console no-run.
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import functools
import importlib
import inspect
import io
import itertools
import logging
import os
import re
import shlex
import sys
import traceback
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pytest
from click.testing import CliRunner

from ferrule.core import BaseConfig
from ferrule.core.cli import main as ferrule_cli

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from click.testing import Result

try:  # pytest's assertion rewriting gives `assert 200 == 204` instead of a bare error
    from _pytest.assertion.rewrite import rewrite_asserts
except ImportError:  # pragma: no cover - private API; plain asserts still work
    rewrite_asserts = None  # type: ignore[assignment]

DOCS = Path(__file__).resolve().parents[1] / "docs"
_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_ENV_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_EXIT = re.compile(r"^\[exit (\d+)\]$")
_RUNNABLE = ("python", "console")
_counter = itertools.count()


class Block(NamedTuple):
    line: int  # 1-based line of the first line of code in the Markdown file
    source: str
    lang: str = "python"  # "python" or "console"


def runnable(info: str) -> str | None:
    """The language of a fence that runs: ``python`` or ``console``, unless ``no-run``."""
    words = info.split()
    if words and words[0] in _RUNNABLE and "no-run" not in words[1:]:
        return words[0]
    return None


def extract_blocks(text: str) -> list[Block]:
    """The runnable fenced blocks of a Markdown text, in order."""
    blocks: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        fence, indent = match["fence"], len(match["indent"])
        start = i + 1
        end = start
        while end < len(lines):
            close = lines[end].strip()
            if close.startswith(fence[0] * len(fence)) and not close.strip(fence[0]):
                break
            end += 1
        lang = runnable(match["info"])
        if lang is not None:
            body = [line[indent:] if line[:indent].isspace() else line for line in lines[start:end]]
            blocks.append(Block(line=start + 1, source="\n".join(body) + "\n", lang=lang))
        i = end + 1
    return blocks


# -- console blocks ---------------------------------------------------------------------


class Command(NamedTuple):
    """One ``$ ferrule ...`` line of a console block and what it must print."""

    line: int  # 1-based line of the ``$`` line in the Markdown file
    text: str  # the command as written, without the ``$ ``
    env: dict[str, str]  # NAME=value words before ``ferrule``
    args: list[str]  # the arguments after ``ferrule``
    expected: list[str]  # expected output lines, without a final ``[exit N]``
    exit_code: int


class ConsoleBlockError(Exception):
    """A console block that cannot run (no command, a command other than ferrule...)."""


def _split_command(text: str, line: int) -> tuple[dict[str, str], list[str]]:
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise ConsoleBlockError(f"line {line}: cannot parse `$ {text}`: {exc}") from None
    env: dict[str, str] = {}
    while words and _ENV_WORD.match(words[0]):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    if not words or words[0] != "ferrule":
        raise ConsoleBlockError(
            f"line {line}: `$ {text}` is not a ferrule command; console blocks only run "
            "`ferrule ...` (optionally after NAME=value words). Show other commands in a "
            "```bash block."
        )
    return env, words[1:]


def parse_console(block: Block) -> list[Command]:
    """The commands of a console block, each with its expected output and exit code."""
    raw: list[tuple[int, str, list[str]]] = []
    for offset, text in enumerate(block.source.splitlines()):
        number = block.line + offset
        if text.startswith("$ ") or text.rstrip() == "$":
            raw.append((number, text[2:].strip(), []))
        elif raw:
            raw[-1][2].append(text.rstrip())
        elif text.strip():
            raise ConsoleBlockError(
                f"line {number}: {text!r} comes before the first `$ ferrule ...` command."
            )
    if not raw:
        raise ConsoleBlockError(f"line {block.line}: the console block has no `$ ` command.")
    commands = []
    for number, text, output in raw:
        env, args = _split_command(text, number)
        expected = _trim(output)
        exit_code = 0
        if expected and (found := _EXIT.match(expected[-1].strip())):
            exit_code = int(found[1])
            expected = _trim(expected[:-1])
        commands.append(Command(number, text, env, args, expected, exit_code))
    return commands


def _trim(lines: Sequence[str]) -> list[str]:
    """Lines without trailing whitespace, trailing blank lines dropped."""
    out = [line.rstrip() for line in lines]
    while out and not out[-1]:
        out.pop()
    return out


def _line_matches(pattern: str, line: str) -> bool:
    if "..." not in pattern:
        return pattern == line
    regex = ".*".join(re.escape(part) for part in pattern.split("..."))
    return re.fullmatch(regex, line, flags=re.DOTALL) is not None


def output_matches(expected: Sequence[str], actual: Sequence[str]) -> bool:
    """Whether ``actual`` lines fit the ``expected`` ones (``...`` wildcards, see above)."""
    want, got = _trim(expected), _trim(actual)

    @functools.cache
    def match(i: int, j: int) -> bool:
        if i == len(want):
            return j == len(got)
        if want[i].strip() == "...":
            return any(match(i + 1, k) for k in range(j, len(got) + 1))
        return j < len(got) and _line_matches(want[i], got[j]) and match(i + 1, j + 1)

    return match(0, 0)


def command_failure(
    page: str, block: Block, command: Command, output: str, exit_code: int
) -> str | None:
    """A message saying how the command's result differs from the block, or None."""
    actual = output.splitlines()
    if exit_code == command.exit_code and output_matches(command.expected, actual):
        return None

    def indent(lines: Sequence[str]) -> str:
        return "\n".join(f"    {line}" for line in lines) or "    (nothing)"

    return (
        f"docs/{page}, the console block at line {block.line}: "
        f"`$ {command.text}` (line {command.line})\n"
        f"exit code: expected {command.exit_code}, got {exit_code}\n"
        f"expected output:\n{indent(command.expected)}\n"
        f"actual output:\n{indent(_trim(actual))}"
    )


def _modules_under(root: Path) -> list[str]:
    prefix = os.path.join(root, "")
    return [
        name
        for name, module in list(sys.modules.items())
        if (getattr(module, "__file__", None) or "").startswith(prefix)
    ]


def _remove_log_handlers(keep: Sequence[logging.Handler]) -> None:
    """Remove and close the Ferrule log sinks installed since ``keep`` was taken."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler not in keep and getattr(handler, "_ferrule_handler", False):
            root.removeHandler(handler)
            handler.close()


class TerminalRunner(CliRunner):
    """A ``CliRunner`` whose stdout is line-buffered, as on a terminal.

    Lines printed to stdout and stderr (log records) then appear in the order
    they were written, not stdout last.
    """

    @contextlib.contextmanager
    def isolation(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        with super().isolation(*args, **kwargs) as streams:
            for stream in (sys.stdout, sys.stderr):
                if isinstance(stream, io.TextIOWrapper):
                    stream.reconfigure(line_buffering=True)
            yield streams


def invoke_ferrule(command: Command, root: Path) -> Result:
    """Run ``ferrule ARGS`` in-process as a fresh process would see the working directory."""
    importlib.invalidate_caches()  # files the examples just wrote must be importable
    hidden = {name: sys.modules.pop(name) for name in _modules_under(root)}
    logger = logging.getLogger()
    handlers, level = list(logger.handlers), logger.level
    try:
        return TerminalRunner().invoke(
            ferrule_cli, command.args, env=command.env, prog_name="ferrule"
        )
    finally:
        for name in _modules_under(root):
            del sys.modules[name]
        sys.modules.update(hidden)
        # The process ends: its log sinks close, the page's logging is as before.
        _remove_log_handlers(handlers)
        logger.handlers[:] = handlers
        logger.setLevel(level)


async def run_console_block(page: Path, block: Block, root: Path) -> None:
    try:
        commands = parse_console(block)
    except ConsoleBlockError as exc:
        pytest.fail(f"docs/{page.name}, the console block at line {block.line}: {exc}", False)
    for command in commands:
        # In a thread: commands such as `ferrule cli` run their own event loop.
        result = await asyncio.to_thread(invoke_ferrule, command, root)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            assert result.exc_info is not None
            trace = "".join(traceback.format_exception(*result.exc_info))
            pytest.fail(
                f"docs/{page.name}, the console block at line {block.line}: "
                f"`$ {command.text}` (line {command.line}) raised instead of exiting "
                f"cleanly:\n{result.output}\n{trace}",
                False,
            )
        failure = command_failure(page.name, block, command, result.output, result.exit_code)
        if failure is not None:
            pytest.fail(failure, False)


# -- python blocks ----------------------------------------------------------------------


async def run_python_block(page: Path, block: Block, module: types.ModuleType) -> None:
    # Pad with blank lines so tracebacks point at the line in the .md file.
    source = "\n" * (block.line - 1) + block.source
    try:
        tree = ast.parse(source, str(page))
        if rewrite_asserts is not None:
            rewrite_asserts(tree, source.encode(), str(page))
        code = compile(tree, str(page), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        result = eval(code, module.__dict__)
        if code.co_flags & inspect.CO_COROUTINE:
            await result
    except BaseException as exc:
        exc.add_note(f"in docs/{page.name}, the python block at line {block.line}")
        raise


BLOCKS = {page: extract_blocks(page.read_text("utf-8")) for page in sorted(DOCS.glob("*.md"))}
PAGES_WITH_CODE = [page for page, blocks in BLOCKS.items() if blocks]


def test_fence_parser() -> None:
    text = (
        "# T\n"
        "```python\nx = 1\n```\n"
        "```python no-run\nraise SystemExit\n```\n"
        "```bash\nuv run ferrule run\n```\n"
        "````python\n```inner\n````\n"
        "```console\n$ ferrule routes\nGET /\n```\n"
        "```console no-run\n$ ferrule run\n```\n"
    )
    blocks = extract_blocks(text)
    assert blocks == [
        Block(3, "x = 1\n", "python"),
        Block(12, "```inner\n", "python"),
        Block(15, "$ ferrule routes\nGET /\n", "console"),
    ]


def test_console_parser() -> None:
    block = Block(
        10,
        "$ ferrule routes shop:app\nMETHODS  RULE\n\n"
        "$ PORT=x FERRULE_APP='shop:app' ferrule run --reload\nError: bad\n[exit 2]\n",
        "console",
    )
    first, second = parse_console(block)
    assert first == Command(
        10, "ferrule routes shop:app", {}, ["routes", "shop:app"], ["METHODS  RULE"], 0
    )
    assert (second.line, second.env, second.args) == (
        13,
        {"PORT": "x", "FERRULE_APP": "shop:app"},
        ["run", "--reload"],
    )
    assert (second.expected, second.exit_code) == (["Error: bad"], 2)
    for source, message in [
        ("$ uv run ferrule routes\n", "not a ferrule command"),
        ("$ ls\n", "not a ferrule command"),
        ("output\n$ ferrule routes\n", "before the first"),
        ("\n", "has no `\\$ ` command"),
    ]:
        with pytest.raises(ConsoleBlockError, match=message):
            parse_console(Block(1, source, "console"))


@pytest.mark.parametrize(
    ("expected", "actual", "ok"),
    [
        (["a", "b"], ["a", "b"], True),
        (["a", "b"], ["a", "b  ", "", ""], True),  # trailing spaces and blank lines
        (["a", "b"], ["a", "c"], False),
        (["a"], ["a", "b"], False),
        (["a", "b"], ["a"], False),
        (["a", "...", "z"], ["a", "z"], True),  # ... matches no line
        (["a", "...", "z"], ["a", "b", "c", "z"], True),  # ... matches several lines
        (["a", "...", "z"], ["a", "b", "c"], False),
        (["...", "b", "..."], ["a", "b", "c"], True),
        (["..."], [], True),
        (["Created shop in ... (3 files)."], ["Created shop in /tmp/x/shop (3 files)."], True),
        (["Created shop in ... (3 files)."], ["Created shop in /tmp (4 files)."], False),
        ([], [], True),
        ([], ["x"], False),
    ],
)
def test_output_matcher(expected: list[str], actual: list[str], ok: bool) -> None:
    assert output_matches(expected, actual) is ok


def test_command_failure_names_page_line_and_both_outputs() -> None:
    block = Block(7, "$ ferrule new shop\nCreated\n[exit 1]\n", "console")
    (command,) = parse_console(block)
    assert command_failure("x.md", block, command, "Created\n", 1) is None
    wrong_exit = command_failure("x.md", block, command, "Created\n", 0)
    assert wrong_exit is not None
    assert wrong_exit.splitlines()[:2] == [
        "docs/x.md, the console block at line 7: `$ ferrule new shop` (line 7)",
        "exit code: expected 1, got 0",
    ]
    wrong_output = command_failure("x.md", block, command, "Error: taken\n", 1)
    assert wrong_output is not None
    assert wrong_output.endswith("expected output:\n    Created\nactual output:\n    Error: taken")


def test_docs_have_examples() -> None:
    assert PAGES_WITH_CODE, f"no runnable ```python examples found under {DOCS}"


@pytest.fixture
def doc_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh working directory, an environment without Ferrule settings."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    # The examples document defaults: settings exported in the shell (PORT, DEBUG...)
    # must not leak into them. Examples that set variables are undone afterwards.
    for key in [*BaseConfig.model_fields, "FERRULE_APP", "FERRULE_DISABLE_PLUGINS"]:
        monkeypatch.delenv(key, raising=False)
    saved_environ = dict(os.environ)
    handlers = list(logging.getLogger().handlers)
    yield tmp_path
    os.environ.clear()
    os.environ.update(saved_environ)
    _remove_log_handlers(handlers)  # e.g. file sinks in tmp_path the examples configured
    for name in _modules_under(tmp_path):
        del sys.modules[name]


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=[p.name for p in PAGES_WITH_CODE])
async def test_doc_examples(page: Path, doc_env: Path) -> None:
    name = f"docs_{page.stem.replace('-', '_')}_{next(_counter)}"
    module = types.ModuleType(name)
    module.__file__ = str(page)
    sys.modules[name] = module
    try:
        for block in BLOCKS[page]:
            if block.lang == "console":
                await run_console_block(page, block, doc_env)
            else:
                await run_python_block(page, block, module)
    finally:
        del sys.modules[name]


def test_configuration_lists_every_key() -> None:
    """docs/configuration.md has a table row for every key of BaseConfig."""
    text = (DOCS / "configuration.md").read_text("utf-8")
    rows = set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", text, flags=re.MULTILINE))
    missing = sorted(set(BaseConfig.model_fields) - rows)
    assert not missing, f"docs/configuration.md does not document {missing}"
    unknown = sorted(rows - set(BaseConfig.model_fields))
    assert not unknown, f"docs/configuration.md documents keys BaseConfig lacks: {unknown}"
