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


# Written here, not read from the CLI: the subcommands the issues ask for. A new subcommand must be
# added to this list (and so to the README) or the --help check below fails.
BRIDGE_SUBCOMMANDS = ("status", "plan", "apply", "demo", "lint", "check-app")


def test_readme_documents_every_bridge_subcommand_and_exit_code() -> None:
    import subprocess
    import sys
    from pathlib import Path

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name in BRIDGE_SUBCOMMANDS:
        assert f"baseline-bridge {name}" in readme, name
    for code in ("**0**", "**1**", "**2**", "**3**"):
        assert code in readme
    bridge = str(Path(sys.executable).parent / "baseline-bridge")
    help_text = subprocess.run([bridge, "--help"], capture_output=True, text=True, check=True).stdout
    commands = help_text.split("positional arguments:\n  COMMAND\n", 1)[1].split("\n\n", 1)[0]
    listed = re.findall(r"^    ([a-z-]+)", commands, re.M)
    assert sorted(listed) == sorted(BRIDGE_SUBCOMMANDS)


def test_architecture_section_names_files_that_exist() -> None:
    """Every module the README's Architecture table names is a real module (or package) of its stage."""
    import re

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Architecture", 1)[1].split("\n## ", 1)[0]
    package = REPO / "src" / "nakamura_misaki_db"
    rows = re.findall(r"^\| [^|]+ \| `([a-z]+)/` \| (.+) \|$", section, re.M)
    assert len(rows) >= 10, rows
    named = 0
    for stage, cell in rows:
        root = package / stage
        assert (root / "__init__.py").is_file(), stage
        code = "\n".join(p.read_text() for p in root.rglob("*.py"))
        for name in re.findall(r"`([a-z_0-9]+)/?`", cell):
            if any(root.rglob(f"{name}.py")) or (root / name / "__init__.py").is_file():
                named += 1
            else:  # not a module: then a function or class of that stage
                assert re.search(rf"^(?:def|class) {name}\b", code, re.M), f"{stage}/: {name}"
    assert named >= 40, named
    for stage in ("inspect", "diff", "facts", "plan", "apply", "verify", "run"):
        assert re.search(rf"`{stage}`|{stage} ->|-> {stage}\b", section), stage
