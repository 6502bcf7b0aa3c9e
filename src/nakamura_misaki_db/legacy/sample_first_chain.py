"""Sample rows for the tables of the retired first chain and ``create_all`` (S0-S5, S7's base)."""

from __future__ import annotations

from nakamura_misaki_db.legacy.sample_base import (
    ASSISTANT_MESSAGES,
    BUSINESS_SKILLS,
    FAMILY_NAMES,
    GIVEN_NAMES,
    HANDOFF_NEXT_STEPS,
    HANDOFF_NOTES,
    HANDOFF_STATUSES,
    LONG_USER_ID_COUNT,
    LONG_USER_ID_LENGTH,
    NOTE_TEXTS,
    PRIMES,
    STATUS_WEIGHTS,
    T0,
    TASK_DESCRIPTIONS,
    TASK_TITLES,
    USER_MESSAGES,
    YEAR_MINUTES,
    YEAR_SECONDS,
    RowGenerator,
    pick,
    rand,
)
from nakamura_misaki_db.schema.quoting import literal


class FirstChainRows(RowGenerator):
    def tasks(self) -> int:
        cols = self.columns("tasks")
        labels = self.labels("task_status")
        pool = [lb for lb in labels for _ in range(STATUS_WEIGHTS.get(lb.lower(), 2))]
        assignee = self.user(f"r0 % {self.users}")
        if self.long_user_ids:
            width = cols.widths["assignee_user_id"] or 0
            if width < LONG_USER_ID_LENGTH:
                raise ValueError(f"long_user_ids needs tasks.assignee_user_id to hold "
                                 f"{LONG_USER_ID_LENGTH} characters; it is varchar({width})")
            picked = sorted({1 + i * self.rows // LONG_USER_ID_COUNT
                             for i in range(LONG_USER_ID_COUNT)})
            long_id = (f"('U' || upper({self.md5('long_user', 'n')})"
                       f" || upper(substr({self.md5('long_user2', 'n')}, 1,"
                       f" {LONG_USER_ID_LENGTH - 33})))")
            assignee = (f"CASE WHEN n IN ({', '.join(map(str, picked))})"
                        f" THEN {long_id} ELSE {assignee} END")
        # The application's 006 (states S6/S7) added priority, progress and an estimate;
        # where tasks lacks them the statement is exactly what it always was.
        extra_columns = extra_values = ""
        if "priority" in cols.types:
            h = self.md5("tasks/c", "n")
            extra_columns = ", priority, progress_percent, estimated_hours"
            extra_values = (
                f",\n       1 + {rand(h, 0)} % 10,"
                f"\n       CASE WHEN lower(status) = 'completed' THEN 100"
                f" WHEN lower(status) IN ('pending', 'cancelled') THEN 0"
                f" ELSE 5 * (1 + {rand(h, 1)} % 19) END,"
                f"\n       CASE WHEN {rand(h, 2)} % 3 = 0 THEN NULL ELSE 0.5 * (1 + {rand(h, 3)} % 32) END")
        return self.run(f"""
INSERT INTO tasks (id, title, description, assignee_user_id, creator_user_id, status,
                   due_at, completed_at, created_at, updated_at{extra_columns})
SELECT id, title, description, assignee, creator, status::task_status,
       {cols.ts('due_at', 'due_l')}, {cols.ts('completed_at', 'completed_l')},
       {cols.ts('created_at', 'created_l')},
       {cols.ts('updated_at', 'coalesce(completed_l, updated_l)')}{extra_values}
FROM (
    SELECT n, id, title, description, assignee, creator, status, created_l,
           CASE WHEN r6 % 5 = 0 THEN NULL
                ELSE created_l + (1 + r6 / 5 % 30) * interval '1 day' END AS due_l,
           CASE WHEN lower(status) = 'completed'
                THEN created_l + (30 + r7 % 20000) * interval '1 minute' END AS completed_l,
           created_l + (r5 % 20160) * interval '1 minute' AS updated_l
    FROM (
        SELECT n,
               {self.task_id('n')} AS id,
               {pick(TASK_TITLES, 'r2')} || ' #' || n AS title,
               CASE WHEN r3 % 4 = 0 THEN NULL ELSE {pick(TASK_DESCRIPTIONS, 'r3 / 4')} END
                   AS description,
               {assignee} AS assignee,
               {self.user(f'r1 % {self.users}')} AS creator,
               {pick(pool, 'r4')} AS status,
               {T0} + (r4 / {len(pool)} % {YEAR_MINUTES}) * interval '1 minute' AS created_l,
               r5, r6, r7
        FROM (
            SELECT n, {rand('h', 0)} AS r0, {rand('h', 1)} AS r1, {rand('h', 2)} AS r2,
                   {rand('h', 3)} AS r3, {rand('g', 0)} AS r4, {rand('g', 1)} AS r5,
                   {rand('g', 2)} AS r6, {rand('g', 3)} AS r7
            FROM (SELECT n, {self.md5('tasks/a', 'n')} AS h, {self.md5('tasks/b', 'n')} AS g
                  FROM generate_series(1, {self.rows}) AS n) AS hashed
        ) AS r
    ) AS base
) AS t""")

    def conversations(self, *, unique_pairs: bool) -> int:
        cols = self.columns("conversations")
        total = self.rows
        # A target-shaped table (S5) refuses duplicates.
        duplicates = 0 if unique_pairs else min(round(total * self.duplicate_ratio), total - 1)
        distinct = total - duplicates
        # last_message_at = t0 + perm(n) * step + jitter, with perm a bijection
        # of 0..total-1 and jitter < step: all distinct, so "the most recently
        # active row" of a duplicated pair is always well defined, and it is
        # sometimes the original, sometimes the copy.
        prime = next(p for p in PRIMES if total % p)
        step = max(1, YEAR_SECONDS // total)
        # Row k <= distinct owns pair k; every later row repeats an earlier pair.
        pair = (f"CASE WHEN n <= {distinct} THEN n"
                f" ELSE 1 + (n - {distinct} - 1) * 7919 % {distinct} END")
        return self.run(f"""
INSERT INTO conversations (conversation_id, user_id, channel_id, messages,
                           created_at, updated_at, last_message_at)
SELECT {self.uuid('conversations', 'n')},
       {self.user(f'(k - 1) % {self.users}')},
       {self.channel(f'(k - 1) / {self.users}')},
       json_build_array(
           json_build_object('role', 'user', 'content', {pick(USER_MESSAGES, 'r0')}),
           json_build_object('role', 'assistant', 'content', {pick(ASSISTANT_MESSAGES, 'r0')})),
       {cols.ts('created_at', f"last_l - (r1 % {30 * 24 * 60}) * interval '1 minute'")},
       {cols.ts('updated_at', 'last_l')},
       {cols.ts('last_message_at', 'last_l')}
FROM (
    SELECT n, k, r0, r1,
           {T0} + ((n - 1) * {prime} % {total} * {step} + r2 % {step}) * interval '1 second'
               AS last_l
    FROM (
        SELECT n, {pair} AS k,
               {rand('h', 0)} AS r0, {rand('h', 1)} AS r1, {rand('h', 2)} AS r2
        FROM (SELECT n, {self.md5('conversations/a', 'n')} AS h
              FROM generate_series(1::bigint, {total}) AS n) AS hashed
    ) AS r
) AS c""")

    def employee_count(self) -> int:
        return min(max(3, self.rows // 10), 500)

    def employees(self) -> int:
        cols = self.columns("employees")
        fam = len(FAMILY_NAMES)
        given = len(GIVEN_NAMES)
        # Family x given name is unique up to fam * given; past that, a number.
        name = (f"{pick([f for f, _ in FAMILY_NAMES], '(i - 1)')} || ' ' || "
                f"{pick(GIVEN_NAMES, f'(i - 1) / {fam}')} || "
                f"CASE WHEN i > {fam * given} THEN ' ' || i ELSE '' END")
        return self.run(f"""
INSERT INTO employees (employee_id, name, is_active, created_at, updated_at)
SELECT {self.uuid('employees', 'i')}, {name}, {rand('h', 0)} % 10 <> 0,
       {cols.ts('created_at', f"{T0} - ({rand('h', 1)} % 1000) * interval '1 day'")},
       {cols.ts('updated_at', f"{T0} + ({rand('h', 2)} % {YEAR_MINUTES}) * interval '1 minute'")}
FROM (SELECT i, {self.md5('employees/a', 'i')} AS h
      FROM generate_series(1, {self.employee_count()}) AS i) AS e""")

    def business_skills(self) -> int:
        cols = self.columns("business_skills")
        labels = self.labels("skill_category")
        values = ", ".join(
            f"({i}, {literal(name)}, {literal(labels[cat % len(labels)])}, {order})"
            for i, (name, cat, order) in enumerate(BUSINESS_SKILLS, start=1))
        return self.run(f"""
INSERT INTO business_skills (skill_id, skill_name, category, display_order, is_active,
                             created_at, updated_at)
SELECT {self.uuid('business_skills', 'i')}, name, category::skill_category, display_order,
       i <> {len(BUSINESS_SKILLS)},
       {cols.ts('created_at', f"{T0} - (i * 7) * interval '1 day'")},
       {cols.ts('updated_at', f"{T0} - i * interval '1 day'")}
FROM (VALUES {values}) AS s (i, name, category, display_order)""")

    def employee_skills(self) -> int:
        cols = self.columns("employee_skills")
        acquired = f"{T0} - ({rand('h', 1)} % 2000) * interval '1 day'"
        return self.run(f"""
INSERT INTO employee_skills (id, employee_id, skill_id, acquired_at, created_at, updated_at)
SELECT {self.uuid('employee_skills', "e || '/' || s")},
       {self.uuid('employees', 'e')}, {self.uuid('business_skills', 's')},
       {cols.ts('acquired_at', acquired)},
       {cols.ts('created_at', f"{T0} - ({rand('h', 2)} % 30) * interval '1 day'")},
       {cols.ts('updated_at', T0)}
FROM (SELECT e, s, {self.md5('employee_skills/a', "e || '/' || s")} AS h
      FROM generate_series(1, {self.employee_count()}) AS e,
           generate_series(1, {len(BUSINESS_SKILLS)}) AS s) AS pairs
WHERE {rand('h', 0)} % 4 = 0""")

    def handoff_count(self) -> int:
        return max(1, self.rows // 10)

    def handoffs(self, has_tasks: bool) -> int:
        cols = self.columns("handoffs")
        old_shape = "id" in cols.types
        # Old handoffs have a foreign key to tasks: point at generated tasks
        # only when they exist; the target table has no foreign key at all.
        task = (f"CASE WHEN r0 % 10 = 0 THEN NULL ELSE {self.task_id(f'1 + r0 % {self.rows}')} END"
                if has_tasks or not old_shape else "NULL::uuid")
        common = f"""
       {task}, {self.user(f'r1 % {self.users}')}, {self.user(f'r2 % {self.users}')},
       {pick(HANDOFF_NOTES, 'r3')}, {pick(HANDOFF_NEXT_STEPS, 'r3')},
       {cols.ts('handoff_at', 'at_l')}"""
        source = f"""
FROM (
    SELECT i, r0, r1, r2, r3, {pick(HANDOFF_STATUSES, 'r3 / 7')} AS status,
           {T0} + (r0 / 10 % {YEAR_MINUTES}) * interval '1 minute' AS at_l
    FROM (SELECT i, {rand('h', 0)} AS r0, {rand('h', 1)} AS r1, {rand('h', 2)} AS r2,
                 {rand('h', 3)} AS r3
          FROM (SELECT i, {self.md5('handoffs/a', 'i')} AS h
                FROM generate_series(1, {self.handoff_count()}) AS i) AS hashed) AS r
) AS h"""
        if old_shape:
            return self.run(f"""
INSERT INTO handoffs (id, task_id, from_user_id, to_user_id, progress_note, next_steps,
                      handoff_at, reminded_at, completed_at, created_at)
SELECT {self.uuid('handoffs', 'i')}, {common},
       {cols.ts('reminded_at', "CASE WHEN r2 % 3 = 0 THEN at_l + interval '1 day' END")},
       {cols.ts('completed_at',
                "CASE WHEN status = 'completed' THEN at_l + interval '2 days' END")},
       {cols.ts('created_at', 'at_l')}
{source}""")
        return self.run(f"""
INSERT INTO handoffs (handoff_id, task_id, from_user_id, to_user_id, progress_note, next_steps,
                      handoff_at, status, accepted_at, completed_at, created_at)
SELECT {self.uuid('handoffs', 'i')}, {common}, status,
       {cols.ts('accepted_at', "CASE WHEN status <> 'pending' THEN at_l + interval '3 hours' END")},
       {cols.ts('completed_at',
                "CASE WHEN status = 'completed' THEN at_l + interval '2 days' END")},
       {cols.ts('created_at', 'at_l')}
{source}""")

    def notes(self) -> int:
        cols = self.columns("notes")
        # A cheap, deterministic, never-zero 1024-dim vector (cosine needs a norm).
        embedding = (f"(SELECT array_agg((0.01 + abs(sin(i * 0.7 + d * 1.3 + {self.seed})))::real"
                     f" ORDER BY d) FROM generate_series(1, 1024) AS d)::vector")
        return self.run(f"""
INSERT INTO notes (id, user_id, content, embedding, created_at)
SELECT {self.uuid('notes', 'i')}, {self.user(f"{rand('h', 0)} % {self.users}")},
       {pick(NOTE_TEXTS, rand('h', 1))}, {embedding},
       {cols.ts('created_at', f"{T0} + ({rand('h', 2)} % {YEAR_MINUTES}) * interval '1 minute'")}
FROM (SELECT i, {self.md5('notes/a', 'i')} AS h
      FROM generate_series(1, {max(1, self.rows // 10)}) AS i) AS n""")

    def sessions(self) -> int:
        cols = self.columns("sessions")
        created = f"{T0} + ({rand('h', 2)} % {YEAR_MINUTES}) * interval '1 minute'"
        modes = ("idle", "creating_task", "handoff", "skill_lookup")
        return self.run(f"""
INSERT INTO sessions (id, user_id, channel_id, state, created_at, updated_at)
SELECT {self.uuid('sessions', 'i')}, {self.user(f"{rand('h', 0)} % {self.users}")},
       {self.channel(f"{rand('h', 1)} % 20")},
       json_build_object('mode', {pick(modes, rand('h', 3))},
                         'turn', {rand('h', 3)} % 12),
       {cols.ts('created_at', created)},
       {cols.ts('updated_at', f"{created} + ({rand('h', 3)} % 600) * interval '1 minute'")}
FROM (SELECT i, {self.md5('sessions/a', 'i')} AS h
      FROM generate_series(1, {max(1, self.rows // 20)}) AS i) AS s""")

    def slack_users(self) -> int:
        cols = self.columns("slack_users")
        fam = len(FAMILY_NAMES)
        handle = f"{pick([r for _, r in FAMILY_NAMES], 'i')} || '.' || i"
        family = pick([f for f, _ in FAMILY_NAMES], "i")
        joined = f"{T0} - (1 + {rand('h', 0)} % 1500) * interval '1 day'"
        return self.run(f"""
INSERT INTO slack_users (user_id, name, real_name, display_name, email, is_admin, is_bot,
                         deleted, slack_created_at, synced_at, created_at, updated_at)
SELECT {self.user('i')}, {handle},
       {family} || ' ' || {pick(GIVEN_NAMES, f'i / {fam}')},
       CASE WHEN i % 7 = 0 THEN NULL ELSE {family} END,
       CASE WHEN i % 40 = 39 THEN NULL ELSE {handle} || '@nakamura-misaki.example' END,
       i % 25 = 0, i % 40 = 39, i % 30 = 29,
       {cols.ts('slack_created_at', joined)},
       {cols.ts('synced_at', f"{T0} + interval '1 year'")},
       {cols.ts('created_at', f"{T0} + interval '1 year'")},
       {cols.ts('updated_at', f"{T0} + interval '1 year'")}
FROM (SELECT i, {self.md5('slack_users/a', 'i')} AS h
      FROM generate_series(0, {self.users - 1}) AS i) AS u""")

