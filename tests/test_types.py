"""mypy (with pandas-stubs) runs with the tests, so CI enforces the types of rollout/."""

from __future__ import annotations

import shutil
import subprocess

from conftest import REPO


def test_mypy_finds_no_errors() -> None:
    mypy = shutil.which("mypy")
    assert mypy, "mypy is a test dependency: pip install -e '.[test]'"
    result = subprocess.run([mypy], cwd=REPO, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout
