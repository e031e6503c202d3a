"""The Chinese quick start exists, is linked from the top of the README, and walks the routine."""

from __future__ import annotations

from conftest import REPO

QUICKSTART = REPO / "docs" / "快速上手.md"


def test_the_quick_start_is_linked_from_the_top_of_the_readme() -> None:
    top = (REPO / "README.md").read_text(encoding="utf-8").splitlines()[:5]
    assert any("(docs/快速上手.md)" in line for line in top)
    assert QUICKSTART.is_file()


def test_the_quick_start_covers_install_commands_routine_and_template() -> None:
    text = QUICKSTART.read_text(encoding="utf-8")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for command in ("scripts/setup && rollout weekly --week 2024-W26", "scripts/test"):
        assert f"```bash\n{command}\n```" in text and f"```bash\n{command}\n```" in readme  # the README's two commands
    routine = ["rollout import ", "rollout changes ", "rollout weekly ", "rollout brief "]
    week = text[text.index("每周例行工作") :]
    positions = [week.index(step) for step in routine]
    assert positions == sorted(positions)  # in the order of the week's work
    assert "--source" in text and "--as-of" in text and "--dry-run" in text
    assert "rollout template --kind macro" in text and "rollout template --kind garage" in text
    assert "燃尽" not in text and "累计完成图" in text
