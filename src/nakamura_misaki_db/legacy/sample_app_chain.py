"""Sample rows for the tables of the application's second chain, 002-006 (S6, S7)."""

from __future__ import annotations

from nakamura_misaki_db.legacy.sample_base import (
    METRIC_TYPES,
    NOTIFICATION_TEXTS,
    NOTIFICATION_TYPES,
    PROJECT_DESCRIPTIONS,
    PROJECT_NAMES,
    PROJECT_STATUSES,
    T0,
    YEAR_MINUTES,
    RowGenerator,
    pick,
    rand,
)


class AppChainRows(RowGenerator):
    def project_count(self) -> int:
        return min(max(2, self.rows // 20), len(PROJECT_NAMES) * 50)

    def projects(self) -> int:
        cols = self.columns("projects")
        count = self.project_count()
        name = (f"{pick(PROJECT_NAMES, 'i - 1')} || CASE WHEN i > {len(PROJECT_NAMES)}"
                f" THEN ' (' || ((i - 1) / {len(PROJECT_NAMES)} + 1) || ')' ELSE '' END")
        created = f"{T0} + ({rand('h', 0)} % 200) * interval '1 day'"
        return self.run(f"""
INSERT INTO projects (project_id, name, description, owner_user_id, deadline, status,
                      created_at, updated_at)
SELECT {self.uuid('projects', 'i')}, {name},
       CASE WHEN i % 3 = 0 THEN NULL ELSE {pick(PROJECT_DESCRIPTIONS, rand('h', 1))} END,
       CASE WHEN i % 7 = 0 THEN NULL ELSE {self.user(f"{rand('h', 2)} % {self.users}")} END,
       {cols.ts('deadline', f"CASE WHEN i % 4 = 0 THEN NULL ELSE {created} + interval '90 days' END")},
       {pick(PROJECT_STATUSES, rand('h', 3))},
       {cols.ts('created_at', created)},
       {cols.ts('updated_at', f"{created} + interval '10 days'")}
FROM (SELECT i, {self.md5('projects/a', 'i')} AS h FROM generate_series(1, {count}) AS i) AS p""")

    def project_tasks(self) -> int:
        cols = self.columns("project_tasks")
        # About a third of the tasks belong to a project, each to one only: the
        # (project_id, task_id) pairs are unique, as uq_project_task requires.
        return self.run(f"""
INSERT INTO project_tasks (id, project_id, task_id, position, created_at)
SELECT {self.uuid('project_tasks', 'n')}, {self.uuid('projects', 'p')}, {self.task_id('n')},
       (row_number() OVER (PARTITION BY p ORDER BY n) - 1)::integer,
       {cols.ts('created_at', f"{T0} + (n % {YEAR_MINUTES}) * interval '1 minute'")}
FROM (SELECT n, 1 + {rand('h', 1)} % {self.project_count()} AS p, {rand('h', 0)} AS r0
      FROM (SELECT n, {self.md5('project_tasks/a', 'n')} AS h
            FROM generate_series(1, {self.rows}) AS n) AS hashed) AS pt
WHERE r0 % 3 = 0""")

    def task_dependencies(self) -> int:
        cols = self.columns("task_dependencies")
        # Task n waits for an earlier task: never itself, and one row per blocked
        # task keeps (blocking, blocked) unique.
        return self.run(f"""
INSERT INTO task_dependencies (id, blocking_task_id, blocked_task_id, dependency_type, created_at)
SELECT {self.uuid('task_dependencies', 'n')}, {self.task_id(f"1 + {rand('h', 1)} % (n - 1)")},
       {self.task_id('n')}, 'blocks',
       {cols.ts('created_at', f"{T0} + (n % {YEAR_MINUTES}) * interval '1 minute'")}
FROM (SELECT n, {self.md5('task_dependencies/a', 'n')} AS h
      FROM generate_series(2, {self.rows}) AS n) AS d
WHERE {rand('h', 0)} % 5 = 0""")

    def daily_summaries(self) -> int:
        cols = self.columns("daily_summaries")
        people = min(self.users, 5)
        # One row per person and day for the last week of the generated year,
        # plus a team-wide row (user_id NULL) per day.
        day = f"(({T0})::date + 358 + d)"
        return self.run(f"""
INSERT INTO daily_summaries (id, date, user_id, tasks_completed, tasks_pending, summary_text,
                             created_at)
SELECT {self.uuid('daily_summaries', "d || '/' || u")}, {day},
       CASE WHEN u = {people} THEN NULL ELSE {self.user('u')} END,
       done, pending,
       CASE WHEN u = {people} THEN 'チーム全体: 完了 ' ELSE '完了 ' END
           || done || ' 件、未完了 ' || pending || ' 件。',
       {cols.ts('created_at', f"{day} + interval '18 hours'")}
FROM (SELECT d, u,
             {rand('h', 0)} % 8 * CASE WHEN u = {people} THEN {people} ELSE 1 END AS done,
             {rand('h', 1)} % 12 * CASE WHEN u = {people} THEN {people} ELSE 1 END AS pending
      FROM (SELECT d, u, {self.md5('daily_summaries/a', "d || '/' || u")} AS h
            FROM generate_series(0, 6) AS d, generate_series(0, {people}) AS u) AS hashed) AS s""")

    def team_metrics(self) -> int:
        cols = self.columns("team_metrics")
        day = f"(({T0})::date + 358 + d)"
        return self.run(f"""
INSERT INTO team_metrics (id, date, metric_type, metric_value, metadata, created_at)
SELECT {self.uuid('team_metrics', "d || '/' || m")}, {day}, {pick(METRIC_TYPES, 'm')},
       CASE m WHEN 0 THEN round(({rand('h', 0)} % 1000) / 1000.0, 3)
              WHEN 1 THEN round((4 + {rand('h', 0)} % 400 / 10.0)::numeric, 1)
              ELSE {rand('h', 0)} % 9 END,
       CASE WHEN m = 2 AND d % 2 = 0 THEN NULL
            ELSE jsonb_build_object('source', 'daily_batch', 'window_days', 1,
                                    'sample_size', 5 + {rand('h', 1)} % 40) END,
       {cols.ts('created_at', f"{day} + interval '23 hours'")}
FROM (SELECT d, m, {self.md5('team_metrics/a', "d || '/' || m")} AS h
      FROM generate_series(0, 6) AS d, generate_series(0, {len(METRIC_TYPES) - 1}) AS m) AS t""")

    def notifications(self, has_tasks: bool) -> int:
        cols = self.columns("notifications")
        task = (f"CASE WHEN r1 % 6 = 0 THEN NULL ELSE {self.task_id(f'1 + r1 % {self.rows}')} END"
                if has_tasks else "NULL::uuid")
        return self.run(f"""
INSERT INTO notifications (id, user_id, notification_type, task_id, content, sent_at, read_at,
                           created_at)
SELECT {self.uuid('notifications', 'i')},
       CASE WHEN r2 % 15 = 0 THEN NULL ELSE {self.user(f'r2 % {self.users}')} END,
       {pick(NOTIFICATION_TYPES, 'r0')}, {task}, {pick(NOTIFICATION_TEXTS, 'r0')},
       {cols.ts('sent_at', "CASE WHEN r3 % 8 = 0 THEN NULL ELSE at_l + interval '1 minute' END")},
       {cols.ts('read_at', "CASE WHEN r3 % 8 <> 0 AND r3 % 3 = 0 THEN at_l + interval '2 hours' END")},
       {cols.ts('created_at', 'at_l')}
FROM (SELECT i, r0, r1, r2, r3, {T0} + (r0 / 7 % {YEAR_MINUTES}) * interval '1 minute' AS at_l
      FROM (SELECT i, {rand('h', 0)} AS r0, {rand('h', 1)} AS r1, {rand('h', 2)} AS r2,
                   {rand('h', 3)} AS r3
            FROM (SELECT i, {self.md5('notifications/a', 'i')} AS h
                  FROM generate_series(1, {max(1, self.rows // 5)}) AS i) AS hashed) AS r) AS n""")

