"""Predictions and round trips, merged: each finding says what the probe saw, driver by driver.

A finding predicted from the catalog is *proven* by the round trip that tests it (an enum
mismatch by the inserts and reads of that column, a length by its boundary write, a time zone by
the value read back), *refuted* when that round trip works (``round-trips``: shown, never blocking),
and stays *predicted* when the probe could not reach it (an earlier error stopped the insert).
A round trip that fails where nothing was predicted (a CHECK, a trigger, a type the rules do not
know) is a finding of its own, kind ``round-trip``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from nakamura_misaki_db.appcheck.findings import ERROR, FAILS, PREDICTED, ROUND_TRIPS, WOULD_FAIL, Finding
from nakamura_misaki_db.appcheck.loader import AppModels, Mapping
from nakamura_misaki_db.appcheck.probe import MappingProbe, Outcome
from nakamura_misaki_db.appcheck.probe_run import ProbeRun

__all__ = ["merge", "worst"]

RANK = {FAILS: 3, WOULD_FAIL: 2, PREDICTED: 1, ROUND_TRIPS: 0}

# Which round trips test which prediction (by the finding's kind); None: any round trip of the column.
EXPERIMENTS: dict[str, tuple[str, ...]] = {
    "missing-table": ("load", "insert"),
    "enum-unreadable": ("label", "load"),
    "too-long": ("boundary", "insert"),
    "nullable": ("boundary",),
    # Only the row written as the application writes it (defaults left unset) tests these.
    "missing-server-default": ("defaults", "insert"),
    "unmapped-required": ("defaults", "insert"),
    "naive-timestamp": ("readback",),
    "aware-timestamp": ("readback",),
}
WRITES_AND_READS = ("insert", "load", "label")


def worst(statuses: Iterable[str]) -> str:
    return max(statuses, key=lambda s: RANK[s], default=ROUND_TRIPS)


def _evidence(finding: Finding, status: str, outcomes: Sequence[Outcome], drivers: Sequence[str]) -> Finding:
    if not outcomes:  # refuted, or not reached
        return replace(finding, status=status, driver=", ".join(drivers))
    first = outcomes[0]
    # "fails": what was done; "would fail for values like": the value.
    shown = [o.value if status == WOULD_FAIL else o.example for o in outcomes]
    examples = list(dict.fromkeys(shown))
    example = examples[0] + (f" (and {len(examples) - 1} more)" if len(examples) > 1 else "")
    return replace(finding, status=status, driver=", ".join(drivers), example=example, error=first.error.message,
                   error_class=first.error.error_class, sqlstate=first.error.sqlstate)


def _judge(finding: Finding, probe: MappingProbe) -> tuple[str, list[Outcome]]:
    """The status of one predicted finding on one driver, and the round trips that show it."""
    experiments = EXPERIMENTS.get(finding.kind, WRITES_AND_READS)
    column = finding.column if finding.kind != "missing-table" else None
    mine = [o for o in probe.outcomes if o.experiment in experiments
            and (o.column == column or (column is None and o.experiment == "load"))]
    if mine:
        status = worst(o.status for o in mine)
        # The round trip the finding is about first (the insert for a write, the label for a read).
        shown = sorted((o for o in mine if o.status == status), key=lambda o: experiments.index(o.experiment))
        return status, [o for o in shown if o.experiment == shown[0].experiment]
    # A value is read back after each insert that went in: a readback is tested by those inserts.
    tested = {"readback": "insert"}.get(experiments[0], experiments[0])
    return (ROUND_TRIPS if (column, tested) in probe.passed else PREDICTED), []


def _claimed(finding: Finding, outcome: Outcome) -> bool:
    experiments = EXPERIMENTS.get(finding.kind, WRITES_AND_READS)
    column = finding.column if finding.kind != "missing-table" else None
    return outcome.experiment in experiments and (outcome.column == column
                                                  or (column is None and outcome.experiment == "load"))


def _unclaimed(mapping: Mapping, outcome: Outcome) -> Finding:
    column = outcome.column
    model = mapping.name if mapping.mapper is not None else None
    if model and column and any(c.name == column for c in mapping.table.columns):
        model = f"{model}.{mapping.attribute(column)}"
    if outcome.experiment == "readback":
        problem = f"the value comes back changed ({outcome.example}, {outcome.error.message})"
        fix = "declare the type the column has, and write values of that kind"
    else:
        what = {"load": "loading existing rows", "insert": "a typical insert", "label": "reading a label",
                "boundary": "a write at the declared type's limit"}[outcome.experiment]
        problem = f"{what} through {mapping.name or mapping.table.fullname} fails"
        fix = "the error names the cause: change the mapping, or the database with a migration"
    return Finding(table=mapping.table.fullname, column=column, problem=problem, fix=fix, kind="round-trip",
                   model=model, severity=ERROR if outcome.status == FAILS else "warning",
                   module=mapping.module or None)


def merge(findings: Sequence[Finding], models: AppModels, runs: Sequence[ProbeRun]) -> list[Finding]:
    """The predicted ``findings`` with the probe's verdicts (``runs``: one per driver), plus what no rule
    predicted; in mapping order."""
    probes = {run.driver: {id(p.mapping): p for p in run.mappings} for run in runs}
    out: list[Finding] = []
    for mapping in models.mappings:
        key = id(mapping)
        own = [f for f in findings if mapping.owns(f)]
        for finding in own:
            seen = {driver: _judge(finding, by_key[key]) for driver, by_key in probes.items() if key in by_key}
            if not seen:
                out.append(finding)
                continue
            status = worst(s for s, _ in seen.values())
            drivers = sorted(d for d, (s, _) in seen.items() if s == status)
            out.append(_evidence(finding, status, seen[drivers[0]][1], drivers))
        extra: dict[tuple[str | None, str], dict[str, list[Outcome]]] = {}
        for driver, by_key in probes.items():
            probe = by_key.get(key)
            for outcome in probe.outcomes if probe is not None else []:
                if not any(_claimed(f, outcome) for f in own):
                    extra.setdefault((outcome.column, outcome.experiment), {}).setdefault(driver, []).append(outcome)
        for by_driver in extra.values():
            status = worst(o.status for outcomes in by_driver.values() for o in outcomes)
            drivers = sorted(d for d, outcomes in by_driver.items() if any(o.status == status for o in outcomes))
            shown = [o for o in by_driver[drivers[0]] if o.status == status]
            out.append(_evidence(_unclaimed(mapping, shown[0]), status, shown, drivers))
    return out
