"""What ``check-app`` found, as data (``Report``, the JSON) and as the text report, mapping by mapping.

Exit 0 (``compatible``) means every checked mapping round-trips: with ``--probe``, no finding
*fails* (a finding that *would fail* only for some values is a warning, unless ``strict``) and no
predicted error was left unproven; without it, no predicted error. Ignored mappings are listed,
never silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nakamura_misaki_db.appcheck.duplicates import Duplicate
from nakamura_misaki_db.appcheck.findings import ERROR, FAILS, PREDICTED, ROUND_TRIPS, WOULD_FAIL, Finding
from nakamura_misaki_db.appcheck.importing import ImportFailure
from nakamura_misaki_db.appcheck.loader import Mapping

__all__ = ["PREDICTED_NOTE", "Ignored", "Report", "render"]

PREDICTED_NOTE = "; findings predicted from the schema, not tried (--probe tries them by round trips)"


@dataclass(frozen=True)
class Ignored:
    mapping: Mapping
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {**self.mapping.to_dict(), "reason": self.reason}


@dataclass(frozen=True)
class Report:
    findings: list[Finding]
    against: str  # masked URL, or HEAD
    timezone: str | None
    tables: int
    columns: int
    mappings: tuple[Mapping, ...] = ()
    probe: bool = False
    drivers: tuple[str, ...] = ()
    strict: bool = False
    import_errors: tuple[ImportFailure, ...] = ()
    skipped: tuple[Any, ...] = ()
    ignored: tuple[Ignored, ...] = ()
    duplicates: tuple[Duplicate, ...] = ()
    unchecked: tuple[str, ...] = ()  # MODULE:ATTR: other modules that map tables, not checked
    notes: tuple[str, ...] = ()
    timing_ms: dict[str, float] = field(default_factory=dict)

    def blocks(self, finding: Finding) -> bool:
        if finding.status == FAILS:
            return True
        if finding.status == WOULD_FAIL:
            return self.strict
        return finding.status == PREDICTED and finding.severity == ERROR

    @property
    def errors(self) -> list[Finding]:
        """The findings that decide the exit code."""
        return [f for f in self.findings if self.blocks(f)]

    @property
    def compatible(self) -> bool:
        return not self.errors and not (self.strict and self.import_errors)

    def of(self, mapping: Mapping) -> list[Finding]:
        return [f for f in self.findings if mapping.owns(f)]

    def status_of(self, mapping: Mapping) -> str:
        found = [f for f in self.of(mapping) if f.status != ROUND_TRIPS]
        if not self.probe:
            if any(self.blocks(f) for f in found):
                return "does not fit"
            return "fits, with warnings" if found else "fits"
        if any(f.status == FAILS for f in found):
            return FAILS
        if any(self.blocks(f) for f in found if f.status == PREDICTED):
            return "predicted to fail (the probe could not try it)"
        if any(f.status == WOULD_FAIL for f in found):
            return "would fail for some values (--strict)" if self.strict else "round-trips; would fail for some values"
        return "round-trips, with warnings" if found else "round-trips"

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": "compatible" if self.compatible else "incompatible",
            "mode": "probe" if self.probe else "predicted",
            "against": self.against, "timezone": self.timezone, "drivers": list(self.drivers),
            "strict": self.strict, "tables": self.tables, "columns": self.columns,
            "mappings": [{**m.to_dict(), "status": self.status_of(m)} for m in self.mappings],
            "import_errors": [e.to_dict() for e in self.import_errors],
            "skipped": [s.to_dict() for s in self.skipped],
            "ignored": [i.to_dict() for i in self.ignored],
            "duplicates": [d.to_dict() for d in self.duplicates],
            "unchecked": list(self.unchecked), "notes": list(self.notes), "timing_ms": self.timing_ms,
            "findings": [f.to_dict() for f in self.findings],
        }


def _summary(report: Report) -> str:
    errors = report.errors
    if not report.probe:
        warnings = len(report.findings) - len(errors)
        note = f", {warnings} warning(s)" if warnings else ""
        if errors:
            return f"not compatible: {len(errors)} problem(s){note}"
        return f"compatible: {report.tables} table(s), {report.columns} column(s) checked{note}"
    failing = [m for m in report.mappings if any(report.blocks(f) for f in report.of(m))]
    would = sum(1 for f in report.findings if f.status == WOULD_FAIL)
    warned = f", {would} finding(s) would fail for some values" if would else ""
    if failing:
        return (f"not compatible: {len(failing)} of {len(report.mappings)} mapping(s) fail: "
                f"{', '.join(m.qualified for m in failing)}")
    if report.strict and report.import_errors:
        return f"not compatible (--strict): {len(report.import_errors)} module(s) could not be imported"
    return f"compatible: every checked mapping round-trips ({len(report.mappings)} mapping(s){warned})"


def render(report: Report, targets: str) -> list[str]:
    """The text report: what was checked, what was left out and why, then mapping by mapping."""
    zone = f" (TimeZone {report.timezone})" if report.timezone else ""
    # Every finding of a report without --probe is a prediction: the first line says so, once.
    how = f"; round trips on {', '.join(report.drivers)}, rolled back" if report.probe else PREDICTED_NOTE
    lines = [f"checking {targets} against {report.against}{zone}{how}"]
    modules = sorted({m.module for m in report.mappings if m.module})
    if len(modules) > 1:
        lines.append(f"{len(report.mappings)} mapping(s) in {len(modules)} module(s): {', '.join(modules)}")
    lines += [f"skipped {s.path}: {s.reason}" for s in report.skipped]
    lines += [f"not imported {e.module}: {e.error} (its mappings, if any, are not checked)"
              for e in report.import_errors]
    lines += [f"ignored {i.mapping}: {i.reason}" for i in report.ignored]
    if report.unchecked:
        lines.append(f"note: only the given targets are checked; {len(report.unchecked)} other module(s) map "
                     f"tables too: {', '.join(report.unchecked)} (give the package directory to check every "
                     f"mapping, e.g. check-app {report.unchecked[0].split('.')[0]})")
    lines += [str(d) for d in report.duplicates]
    lines += [f"note: {n}" for n in report.notes]
    for mapping in report.mappings:
        found = report.of(mapping)
        lines.append(f"{mapping}: {report.status_of(mapping)}")
        lines += [f"  {f}" for f in found]
    lines.append(_summary(report))
    return lines

