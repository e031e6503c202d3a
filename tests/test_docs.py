"""The README documents what the code accepts and offers."""

from __future__ import annotations

import pytest
from conftest import REPO
from test_cli import _commands

from rollout.cli import cli
from rollout.schema import KINDS

README = (REPO / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("kind", KINDS.values(), ids=lambda k: k.name)
def test_schema_table_lists_every_column(kind) -> None:
    for field in kind.fields:
        assert f"| `{field.name}` | {field.zh} |" in README


@pytest.mark.parametrize("path", list(_commands(cli)), ids=" ".join)
def test_command_reference_lists_every_command(path: tuple[str, ...]) -> None:
    assert f"rollout {' '.join(path)}" in README


def test_readme_gives_the_ci_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "```bash\nscripts/test\n```" in README
    assert "exec scripts/test" in ci
    assert "scripts/setup --test" in (REPO / "scripts" / "test").read_text(encoding="utf-8")


def test_readme_main_job_installs_what_it_needs() -> None:
    assert "scripts/setup && rollout weekly --week 2024-W26" in README
    setup = (REPO / "scripts" / "setup").read_text(encoding="utf-8")
    assert "apt-get install" in setup and "fonts-noto-cjk" in setup and "pip install" in setup
