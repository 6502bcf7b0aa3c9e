"""The lint command, shared by ``nakamura-db lint`` and ``baseline-bridge lint``: findings, exit code."""

from __future__ import annotations

import json
from pathlib import Path

from nakamura_misaki_db.authoring.lint import default_versions_dir, lint_versions
from nakamura_misaki_db.connect.errors import EXIT_OK, EXIT_REFUSED, BadInput


def run_lint(versions: str | None, *, as_json: bool = False) -> int:
    """Lint ``versions`` (default: this release's scripts); print findings; exit 3 if any."""
    directory = Path(versions) if versions else default_versions_dir()
    if not directory.is_dir():
        raise BadInput(f"{directory} is not a directory")
    findings = lint_versions(directory)
    if as_json:
        print(json.dumps([{"file": f.file, "reason": f.reason} for f in findings], ensure_ascii=False, indent=2))
    else:
        for f in findings:
            print(f)
        if not findings:
            print(f"{directory}: migrations are clean")
    return EXIT_REFUSED if findings else EXIT_OK
