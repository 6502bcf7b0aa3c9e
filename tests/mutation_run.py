"""Mutation testing of the decision code: run it, then report the score and every survivor.

    .venv/bin/python tests/mutation_run.py                # run (resumes where it stopped), then report
    .venv/bin/python tests/mutation_run.py --report-only  # report on the last run
    .venv/bin/python tests/mutation_run.py 'nakamura_misaki_db.connect.urls.*'  # (re-)run some mutants, then report

What is mutated and which tests run is configured in pyproject.toml ([tool.mutmut]):
the modules where a silent bug loses data or lets drift through, and the tests that
exercise them in-process (a test that starts a console script runs the installed code,
not the mutant). The tests need PostgreSQL: TEST_DATABASE_URL if set, else one embedded
server started here for the whole run (each test still makes its own database).

A surviving mutant is either killed by a new test or listed in
tests/mutation_equivalents.txt with why no test can tell it from the original. The
report fails (exit 1) when the score is below the goal or a survivor is unexplained.

This is a command, not part of CI: about 5,600 mutants take several hours on two cores; it resumes.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EQUIVALENTS = REPO / "tests" / "mutation_equivalents.txt"
GOAL = 0.90
MUTMUT = str(Path(sys.executable).parent / "mutmut")


def explained() -> dict[str, str]:
    """``name  reason`` per line; a reason may cover several names (``a, b  reason``)."""
    out: dict[str, str] = {}
    for line in EQUIVALENTS.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        names, _, reason = line.partition("  ")
        if not reason.strip():
            raise SystemExit(f"{EQUIVALENTS.name}: no reason given for {names!r}")
        for name in names.split(","):
            out[name.strip()] = reason.strip()
    return out


def results() -> dict[str, str]:
    text = subprocess.run([MUTMUT, "results", "--all", "true"], cwd=REPO, capture_output=True, text=True,
                          check=True).stdout
    return dict(re.findall(r"^\s*([\w.]+__mutmut_\d+): (.+?)\s*$", text, re.M))


def module_of(name: str) -> str:
    return name.split(".x_", 1)[0].split(".xǁ", 1)[0]


# A mutant that makes a test hang is caught too (the run would never finish), as in Stryker or PIT.
DETECTED = ("killed", "timeout")
NOT_RUN = "not checked"


def report() -> int:
    statuses = results()
    if not statuses:
        print("no mutation results: run without --report-only first")
        return 1
    reasons = explained()
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    unexplained: list[tuple[str, str]] = []
    for name, status in sorted(statuses.items()):
        by_module[module_of(name)][status] += 1
        if status not in DETECTED and status != NOT_RUN and name not in reasons:
            unexplained.append((name, status))
    by_module["all"] = sum(by_module.values(), Counter())
    width = max(len(m) for m in by_module)
    print(f"{'module':<{width}}  mutants  not run  killed  timeout  survived  equivalent   score")
    for module, counts in sorted(by_module.items(), key=lambda item: (item[0] == "all", item[0])):
        n = sum(counts.values())
        checked = n - counts[NOT_RUN]
        detected = sum(counts[s] for s in DETECTED)
        listed = sum(1 for name, status in statuses.items() if status not in DETECTED and status != NOT_RUN
                     and name in reasons and module in ("all", module_of(name)))
        score = f"{detected / checked:6.1%}" if checked else "     -"
        print(f"{module:<{width}}  {n:7}  {counts[NOT_RUN]:7}  {counts['killed']:6}  {counts['timeout']:7}  "
              f"{checked - detected:8}  {listed:10}  {score}")
    total = by_module["all"]
    checked = sum(total.values()) - total[NOT_RUN]
    detected = sum(total[s] for s in DETECTED)
    score = detected / checked if checked else 0.0
    print(f"score: {detected} of {checked} checked mutants killed or timed out = {score:.1%} (goal {GOAL:.0%})")
    others = [f"{count} {status}" for status, count in total.most_common() if status not in (*DETECTED, NOT_RUN)]
    print("survivors: " + (", ".join(others) or "none"))
    if total[NOT_RUN]:
        print(f"INCOMPLETE: {total[NOT_RUN]} mutants not run yet (run again: it resumes)")
    stale = sorted(set(reasons) - set(statuses))
    if stale:
        print(f"{len(stale)} name(s) in {EQUIVALENTS.name} are no longer mutants (the code changed): "
              + ", ".join(stale[:10]))
    if unexplained:
        print(f"\n{len(unexplained)} survivor(s) not explained in {EQUIVALENTS.name}; "
              f"see one with `mutmut show NAME`:")
        for name, status in unexplained:
            print(f"  {name}: {status}")
    return 0 if score >= GOAL and not unexplained and not total[NOT_RUN] else 1


def run(max_children: int, names: list[str]) -> int:
    env = dict(os.environ)
    server = None
    data_dir = None
    if not env.get("TEST_DATABASE_URL"):
        import pgserver

        data_dir = tempfile.mkdtemp(prefix="nakamura-mutation-")
        server = pgserver.get_server(data_dir, cleanup_mode="stop")
        # A throw-away server need not survive a power cut (as conftest's without_durability): every
        # CREATE DATABASE and COMMIT of a few thousand test runs gets cheaper.
        for setting in ("fsync", "full_page_writes", "synchronous_commit"):
            server.psql(f"ALTER SYSTEM SET {setting} = off")
        server.psql("SELECT pg_reload_conf()")
        env["TEST_DATABASE_URL"] = server.get_uri()
    log = REPO / "mutants" / "run.log"
    log.parent.mkdir(exist_ok=True)
    try:
        print(f"mutmut run --max-children {max_children} (progress in {log.relative_to(REPO)}) ...", flush=True)
        with log.open("w", encoding="utf-8") as out:
            code = subprocess.run([MUTMUT, "run", "--max-children", str(max_children), *names], cwd=REPO, env=env,
                                  stdout=out, stderr=subprocess.STDOUT, check=False).returncode
    finally:
        if server is not None:
            server.cleanup()
        if data_dir is not None:
            shutil.rmtree(data_dir, ignore_errors=True)
    if code != 0:
        print(f"mutmut run failed (exit {code}); see {log}")
        return code
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--report-only", action="store_true", help="report on the last run, run nothing")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2, help="parallel mutants")
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="run only these mutants (globs such as 'nakamura_misaki_db.connect.urls.*'), again even "
                             "if they were run before: after a new test, re-run the survivors it aims at")
    args = parser.parse_args(argv)
    if not args.report_only:
        code = run(args.max_children, args.names)
        if code:
            return code
    return report()


if __name__ == "__main__":
    sys.exit(main())
