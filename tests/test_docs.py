"""Run every ```python example in docs/*.md, so the documentation cannot rot.

The blocks of one page run in order in one shared namespace, like a doctest
session, inside a fresh temporary working directory. The namespace is a real
module registered in ``sys.modules`` so ``typing.get_type_hints`` resolves the
annotations of classes and handlers the examples define. A block may use
top-level ``await`` (e.g. ``async with TestClient(app) as client: ...``).

Fences other than ```python (```bash, ```toml, ```text...) are not run, nor is
```python no-run.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import os
import re
import sys
import types
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import pytest

from ferrule.core import BaseConfig

if TYPE_CHECKING:
    from collections.abc import Iterator

try:  # pytest's assertion rewriting gives `assert 200 == 204` instead of a bare error
    from _pytest.assertion.rewrite import rewrite_asserts
except ImportError:  # pragma: no cover - private API; plain asserts still work
    rewrite_asserts = None  # type: ignore[assignment]

DOCS = Path(__file__).resolve().parents[1] / "docs"
_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_counter = itertools.count()


class Block(NamedTuple):
    line: int  # 1-based line of the first line of code in the Markdown file
    source: str


def runnable(info: str) -> bool:
    """``python`` runs; ``python no-run`` and every other language do not."""
    words = info.split()
    return bool(words) and words[0] == "python" and "no-run" not in words[1:]


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
        if runnable(match["info"]):
            body = [line[indent:] if line[:indent].isspace() else line for line in lines[start:end]]
            blocks.append(Block(line=start + 1, source="\n".join(body) + "\n"))
        i = end + 1
    return blocks


BLOCKS = {page: extract_blocks(page.read_text("utf-8")) for page in sorted(DOCS.glob("*.md"))}
PAGES_WITH_CODE = [page for page, blocks in BLOCKS.items() if blocks]


def test_fence_parser() -> None:
    text = (
        "# T\n"
        "```python\nx = 1\n```\n"
        "```python no-run\nraise SystemExit\n```\n"
        "```bash\nuv run ferrule run\n```\n"
        "````python\n```inner\n````\n"
    )
    blocks = extract_blocks(text)
    assert [(b.line, b.source) for b in blocks] == [(3, "x = 1\n"), (12, "```inner\n")]


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
    yield tmp_path
    os.environ.clear()
    os.environ.update(saved_environ)
    for name, module in list(sys.modules.items()):
        where = getattr(module, "__file__", None) or ""
        if where.startswith(str(tmp_path)):
            del sys.modules[name]


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=[p.name for p in PAGES_WITH_CODE])
async def test_doc_examples(page: Path, doc_env: Path) -> None:
    blocks = BLOCKS[page]
    name = f"docs_{page.stem.replace('-', '_')}_{next(_counter)}"
    module = types.ModuleType(name)
    module.__file__ = str(page)
    sys.modules[name] = module
    try:
        for block in blocks:
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
