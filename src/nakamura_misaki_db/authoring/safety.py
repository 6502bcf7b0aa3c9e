"""The safety lint: what each revision after the safety baseline would run, judged rule by rule.

For every revision after ``SAFETY_BASELINE``: ``upgrade()`` and ``downgrade()`` captured
offline (``capture``), their statements parsed with ``DO`` blocks opened (``sql``), every rule
of ``rules`` applied, undefined names and syntax errors found by ruff (``pyflakes``), the
reviewed opt-outs (``optout``) matched. With a database (``datafacts``), each finding gets the
facts that say what it would do there: rows lost, NULLs rejected, table size against the lock
budget.

Revisions up to ``0007`` are not judged: they are deployed everywhere and cannot change
(editing a deployed revision changes nothing where it already ran); their own hazards are
handled by their guarded helpers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from nakamura_misaki_db.authoring import optout, pyflakes
from nakamura_misaki_db.authoring.capture import Capture, ScriptRef, capture_chain, scripts_of
from nakamura_misaki_db.authoring.chain_types import ColumnTypes
from nakamura_misaki_db.authoring.rules import CHECKS
from nakamura_misaki_db.authoring.rules.base import ERROR, WARNING, Hazard, RevisionView, Rule
from nakamura_misaki_db.authoring.rules.runtime import LINT_TOOL_MISSING, STALE_OPT_OUT, SYNTAX_ERROR, UNDEFINED_NAME
from nakamura_misaki_db.authoring.sql import Parsed, parse

SAFETY_BASELINE = "0007"  # the last revision deployed before the safety rules: never judged


def judged(revision: str) -> bool:
    return revision.isdigit() and int(revision) > int(SAFETY_BASELINE)


@dataclass
class SafetyFinding:
    file: str
    revision: str
    function: str  # "upgrade()", "downgrade()", or "" for the whole file
    rule: Rule
    object: str
    operation: str
    detail: str = ""
    level: str = ERROR
    reviewed: str | None = None  # the SAFETY_REVIEWED reason that covers it
    facts: list[str] = field(default_factory=list)
    hazard: Hazard | None = None

    @property
    def key(self) -> str:
        return optout.key("downgrade" if self.function == "downgrade()" else "upgrade", self.rule.id, self.object)

    @property
    def blocking(self) -> bool:
        return self.level == ERROR and self.reviewed is None

    @property
    def shown_level(self) -> str:
        return "reviewed" if self.reviewed is not None else self.level

    def __str__(self) -> str:
        where = f"{self.file}: {self.function}: " if self.function else f"{self.file}: "
        head = f"{where}{self.shown_level} {self.rule.id} {self.object}: {self.operation}"
        lines = [head + (f" ({self.detail})" if self.detail else "")]
        lines += [f"    data: {fact}" for fact in self.facts]
        lines.append(f"    why: {self.rule.why}")
        lines.append(f"    safe pattern: {self.rule.safe}")
        if self.reviewed is not None:
            lines.append(f"    reviewed (SAFETY_REVIEWED[{self.key!r}]): {self.reviewed}")
        return "\n".join(lines)

    def as_json(self) -> dict[str, object]:
        return {"file": self.file, "reason": str(self).splitlines()[0].removeprefix(f"{self.file}: "),
                "revision": self.revision, "function": self.function, "rule": self.rule.id,
                "level": self.shown_level, "object": self.object, "operation": self.operation,
                "detail": self.detail, "why": self.rule.why, "safe_pattern": self.rule.safe,
                "reviewed": self.reviewed, "facts": self.facts, "key": self.key}


@dataclass
class Judged:
    """One judged revision: its script, both captures parsed, its opt-outs."""

    script: ScriptRef
    up: Parsed
    down: Parsed
    types_before: ColumnTypes
    types_after: ColumnTypes
    reviewed: dict[str, str]
    reviewed_problem: str | None


def judge_chain(scripts: list[ScriptRef]) -> Iterator[Judged]:
    """Capture the whole chain in order; yield every judged revision, parsed."""
    types = ColumnTypes()
    wanted = {s.revision for s in scripts if judged(s.revision)}
    for script, up, down in capture_chain(scripts, judged=wanted):
        before = types.copy()
        parsed_up = parse(up)
        types.apply(parsed_up)
        if down is None:
            continue
        reviewed, problem = optout.from_file(script.path)
        yield Judged(script, parsed_up, parse(down), before, types.copy(), reviewed, problem)


def hazards(item: Judged, earlier: list[Parsed]) -> Iterator[tuple[Capture, Hazard]]:
    for parsed, other, types in ((item.up, item.down, item.types_before), (item.down, item.up, item.types_after)):
        view = RevisionView(parsed, other, earlier if parsed is item.up else [], types.lookup)
        for check in CHECKS:
            for hazard in check(view):
                yield parsed.capture, hazard


def _findings(item: Judged, earlier: list[Parsed], shown: str) -> list[SafetyFinding]:
    out = [SafetyFinding(shown, item.script.revision, capture.function, h.rule, h.object, h.operation, h.detail,
                         h.level, hazard=h)
           for capture, h in hazards(item, earlier)]
    for finding in out:
        finding.reviewed = item.reviewed.get(finding.key)
    used = {f.key for f in out}
    for stale in sorted(set(item.reviewed) - used):
        out.append(SafetyFinding(shown, item.script.revision, "", STALE_OPT_OUT, stale,
                                 f"SAFETY_REVIEWED[{stale!r}]", "no operation of this revision matches it"))
    if item.reviewed_problem:
        out.append(SafetyFinding(shown, item.script.revision, "", STALE_OPT_OUT, optout.NAME,
                                 item.reviewed_problem))
    return out


def _ruff(paths: dict[Path, tuple[str, str]]) -> list[SafetyFinding]:
    try:
        problems = pyflakes.problems(sorted(paths))
    except pyflakes.RuffMissing as exc:
        return [SafetyFinding(str(next(iter(paths.values()))[1]) if paths else "", "", "", LINT_TOOL_MISSING,
                              "ruff", str(exc))]
    out = []
    for problem in dict.fromkeys(problems):  # one finding per line and message
        revision, shown = paths.get(problem.path.resolve(), ("", str(problem.path)))
        rule = UNDEFINED_NAME if problem.code == "undefined-name" else SYNTAX_ERROR
        line = f"line {problem.line}" if problem.line is not None else "file"
        out.append(SafetyFinding(shown, revision, "", rule, line, problem.message))
    return out


def _judged_files(versions_dir: Path) -> dict[Path, str]:
    """Revision files after the baseline, by their file name (readable even when the chain is not)."""
    out = {}
    for path in sorted(versions_dir.glob("*.py")):
        number = path.name.split("_", 1)[0]
        if judged(number):
            out[path.resolve()] = number
    return out


def lint_safety(versions_dir: Path, shown_dir: str | None = None, *, facts: object = None) -> list[SafetyFinding]:
    """Every safety finding for the revisions after the baseline in ``versions_dir``.

    ``facts``: an ``authoring.datafacts.Facts`` (a read-only database session) to add what each
    operation would do to the data there; None for the static lint.
    """
    shown_dir = shown_dir or str(versions_dir)
    files = _judged_files(versions_dir)
    shown = {path: (rev, f"{shown_dir.rstrip('/')}/{path.name}") for path, rev in files.items()}
    findings = _ruff(shown) if files else []
    if any(f.rule is SYNTAX_ERROR for f in findings):
        return findings  # the chain cannot be loaded; the structural lint says so too
    try:
        scripts = scripts_of(versions_dir)
    except Exception:  # a chain Alembic cannot load: the structural lint reports it
        return findings
    earlier: list[Parsed] = []
    undefined = {f.file for f in findings if f.rule is UNDEFINED_NAME}
    for item in judge_chain(scripts):
        where = shown.get(item.script.path.resolve(), (item.script.revision, str(item.script.path)))[1]
        found = _findings(item, earlier, where)
        # A NameError the capture hit is the undefined name ruff reports: say it once.
        found = [f for f in found if not (f.hazard and f.rule.id == "run-fails"
                                          and "NameError" in f.operation and where in undefined)]
        if facts is not None:
            facts.annotate(item, found)  # type: ignore[attr-defined]
        findings += found
        earlier.append(item.up)
    return findings


def summary(findings: list[SafetyFinding]) -> str:
    errors = sum(1 for f in findings if f.blocking)
    warnings = sum(1 for f in findings if f.level == WARNING and f.reviewed is None)
    reviewed = sum(1 for f in findings if f.reviewed is not None)
    return f"{errors} error(s), {warnings} warning(s), {reviewed} reviewed"
