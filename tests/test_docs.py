"""The docs say what the code does: Quickstart commands, CI command, CLI options."""

from __future__ import annotations

import re

from .helpers import REPO


def _quickstart_commands() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", section, flags=re.S)]


def test_quickstart_has_exactly_two_commands_and_ci_runs_the_second() -> None:
    commands = _quickstart_commands()
    assert len(commands) == 2
    assert all("\n" not in c for c in commands)
    assert "baseline-bridge demo" in commands[0]
    assert "pytest" in commands[1]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert commands[1] in ci


def test_readme_documents_every_bridge_subcommand_and_exit_code() -> None:
    from nakamura_misaki_db.bridge.cli import COMMANDS

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name in COMMANDS:
        assert f"baseline-bridge {name}" in readme
    for code in ("**0**", "**1**", "**2**", "**3**"):
        assert code in readme
