"""Deterministic, realistic rows for a database built by ``states.build_state``.

Every row is generated server-side (``INSERT ... SELECT ... FROM
generate_series``): a million tasks must not travel through Python. Randomness
is md5 of (seed, table, row number), so the same seed gives the same rows, ids
included (``gen_random_uuid()`` would not).

What is inserted follows the catalog of the database, not a restatement of it:
enum labels are read from ``pg_enum`` (uppercase in S1, lowercase in S2/S4,
English skill categories until the bridge renames them), the handoffs shape is
told apart by its key column, and a timestamp column gets a naive Asia/Tokyo
wall-clock value or the same instant as ``timestamptz`` depending on its type.
That is how the legacy application wrote them: ``datetime.now()`` on a server
running in Asia/Tokyo.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..quoting import ident, literal
from .states import STATES

APP_TIME_ZONE = "Asia/Tokyo"
# Naive Tokyo wall clock where generated history starts (built without a
# string literal so no ':' reaches SQLAlchemy's bind-parameter parser).
_T0 = "make_timestamp(2024, 4, 1, 9, 0, 0)"
_YEAR_MINUTES = 365 * 24 * 60
_YEAR_SECONDS = _YEAR_MINUTES * 60
LONG_USER_ID_LENGTH = 60
LONG_USER_ID_COUNT = 3
# Fixed-width hex suffixes keep generated ids unique; this bounds the user pool.
_MAX_USERS = 16**6

TASK_TITLES: tuple[str, ...] = (
    "見積書を作成する",
    "顧客へ折り返し電話",
    "入荷分の検品",
    "出荷準備（午前便）",
    "ブランドバッグの査定",
    "腕時計のオーバーホール手配",
    "週次売上レポート提出",
    "棚卸しの差異確認",
    "来月のシフト表作成",
    "EC サイトに新商品を出品",
    "店頭ディスプレイの入れ替え",
    "返品対応の記録",
)
TASK_DESCRIPTIONS: tuple[str, ...] = (
    "先方の希望納期を確認してから進めること。",
    "前回の対応履歴を確認の上、担当者に共有。",
    "不明点は店長に相談。",
    "写真を添付して Slack で報告してください。",
    "締め切り厳守。",
)
USER_MESSAGES: tuple[str, ...] = (
    "今日のタスクを教えて",
    "明日の出荷予定は？",
    "このタスクを田中さんに引き継ぎたい",
    "査定の進捗どうなってる？",
    "シフトの変更をお願いします",
)
ASSISTANT_MESSAGES: tuple[str, ...] = (
    "本日のタスクは 3 件です。",
    "明日は 12 件の出荷予定があります。",
    "引き継ぎを作成しました。",
    "査定は現在 2 件が進行中です。",
    "シフト変更の依頼を店長に送りました。",
)
HANDOFF_NOTES: tuple[str, ...] = (
    "お客様への一次連絡は済み。",
    "半分まで梱包済み、伝票は未発行。",
    "査定額の社内承認待ち。",
    "部品の取り寄せ中。",
)
HANDOFF_NEXT_STEPS: tuple[str, ...] = (
    "明日午前中に再度連絡。",
    "伝票を発行して集荷依頼。",
    "承認後にお客様へ金額を提示。",
    "部品到着後に作業再開。",
)
NOTE_TEXTS: tuple[str, ...] = (
    "常連の佐藤様は平日午後の来店が多い。",
    "時計の電池交換は30分で対応可能。",
    "梱包材の在庫が少なくなっている。",
    "査定時は付属品の有無を必ず確認。",
)
FAMILY_NAMES: tuple[tuple[str, str], ...] = (
    ("佐藤", "sato"), ("鈴木", "suzuki"), ("高橋", "takahashi"), ("田中", "tanaka"),
    ("伊藤", "ito"), ("渡辺", "watanabe"), ("山本", "yamamoto"), ("中村", "nakamura"),
    ("小林", "kobayashi"), ("加藤", "kato"), ("吉田", "yoshida"), ("山田", "yamada"),
    ("佐々木", "sasaki"), ("山口", "yamaguchi"), ("松本", "matsumoto"), ("井上", "inoue"),
    ("木村", "kimura"), ("林", "hayashi"), ("斎藤", "saito"), ("清水", "shimizu"),
)
GIVEN_NAMES: tuple[str, ...] = (
    "翔太", "美咲", "大輔", "陽菜", "健", "さくら", "拓海", "結衣", "蓮", "愛",
    "悠斗", "七海", "直樹", "由美", "誠", "彩", "亮", "真由", "和也", "葵",
)
# (name, index into the skill_category labels, display_order); the index is
# positional because legacy and target label lists correspond one to one.
BUSINESS_SKILLS: tuple[tuple[str, int, int], ...] = (
    ("電話・メール問い合わせ対応", 0, 1),
    ("クレーム対応", 0, 2),
    ("入荷検品", 1, 1),
    ("梱包・発送", 1, 2),
    ("ブランド品査定", 2, 1),
    ("時計修理", 2, 2),
    ("店頭販売", 3, 1),
    ("EC出品", 3, 2),
    ("シフト管理", 4, 1),
    ("売上集計", 4, 2),
    ("開店・閉店作業", 5, 1),
    ("店内ディスプレイ", 5, 2),
)
PROJECT_NAMES: tuple[str, ...] = (
    "春の新作キャンペーン",
    "EC サイトリニューアル",
    "年末棚卸し",
    "新店舗オープン準備",
    "査定業務マニュアル整備",
    "物流倉庫の移転",
)
PROJECT_DESCRIPTIONS: tuple[str, ...] = (
    "関係部署と週次で進捗を共有する。",
    "予算は店長承認済み。",
    "期限前に中間レビューを行う。",
)
PROJECT_STATUSES: tuple[str, ...] = ("active", "active", "active", "completed", "on_hold")
METRIC_TYPES: tuple[str, ...] = ("completion_rate", "avg_completion_hours", "overdue_tasks")
# Aligned one to one: the text says what the type says.
NOTIFICATION_TYPES: tuple[str, ...] = ("task_assigned", "due_reminder", "task_completed", "dependency_unblocked")
NOTIFICATION_TEXTS: tuple[str, ...] = (
    "新しいタスクが割り当てられました。",
    "タスクの期限が近づいています。",
    "依頼したタスクが完了しました。",
    "待っていたタスクが完了し、作業を始められます。",
)
# Relative frequency of task statuses by (lower-cased) label; other labels get 2.
_STATUS_WEIGHTS = {"pending": 7, "in_progress": 5, "completed": 7, "cancelled": 1}
_HANDOFF_STATUSES: tuple[str, ...] = ("pending", "pending", "accepted", "completed")
# The tables sized by ``rows`` itself (a million in the benchmark).
_BULK_TABLES = frozenset({"tasks", "conversations"})
_PRIMES: tuple[int, ...] = (1_000_003, 999_983, 7_919)


def _pick(values: Sequence[str], index_sql: str) -> str:
    """SQL choosing ``values[index % len]``."""
    array = ", ".join(literal(v) for v in values)
    return f"(ARRAY[{array}]::text[])[1 + ({index_sql}) % {len(values)}]"


def _rand(hash_sql: str, word: int) -> str:
    """The ``word``-th (0-3) unsigned 32-bit number of an md5 hex string."""
    return f"('x' || substr({hash_sql}, {8 * word + 1}, 8))::bit(32)::bigint"


@dataclass
class _Columns:
    types: dict[str, str]
    widths: dict[str, int | None]

    def ts(self, column: str, naive_tokyo_sql: str) -> str:
        """A Tokyo wall-clock value, as the column's type wants it."""
        if self.types[column] == "timestamp with time zone":
            return f"(({naive_tokyo_sql}) AT TIME ZONE {literal(APP_TIME_ZONE)})"
        return f"({naive_tokyo_sql})"


@dataclass
class _Gen:
    conn: Connection
    rows: int
    seed: int
    duplicate_ratio: float
    long_user_ids: bool
    users: int = field(init=False)

    def __post_init__(self) -> None:
        self.users = min(max(5, self.rows // 20), _MAX_USERS)

    # -- catalog -------------------------------------------------------------
    def tables(self) -> set[str]:
        return set(self.conn.execute(sa.text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')")).scalars())

    def columns(self, table: str) -> _Columns:
        result = self.conn.execute(sa.text(
            "SELECT column_name, data_type, character_maximum_length"
            " FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name = :t"), {"t": table}).all()
        return _Columns({r[0]: r[1] for r in result}, {r[0]: r[2] for r in result})

    def labels(self, type_name: str) -> list[str]:
        return list(self.conn.execute(sa.text(
            "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid"
            " JOIN pg_namespace n ON n.oid = t.typnamespace"
            " WHERE n.nspname = 'public' AND t.typname = :t ORDER BY e.enumsortorder"),
            {"t": type_name}).scalars())

    def has_unique_index(self, table: str) -> bool:
        return bool(self.conn.execute(sa.text(
            "SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
            " AND c.relname = :t AND i.indisunique AND NOT i.indisprimary)"),
            {"t": table}).scalar())

    @contextmanager
    def indexes_deferred(self, table: str) -> Iterator[None]:
        """Drop ``table``'s indexes for a bulk insert, then recreate them as they were.

        Building an index once from sorted data is several times faster than
        updating it a million times. Definitions come from the catalog and go
        back under the same names, so the schema is unchanged afterwards.
        Indexes a foreign key depends on stay (they cannot be dropped alone).
        """
        constraints = self.conn.execute(sa.text(
            "SELECT con.conname, pg_get_constraintdef(con.oid) FROM pg_constraint con"
            " WHERE con.conrelid = CAST(:t AS regclass) AND con.contype IN ('p', 'u')"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint fk"
            "                 WHERE fk.contype = 'f' AND fk.conindid = con.conindid)"),
            {"t": f"public.{table}"}).all()
        indexes = self.conn.execute(sa.text(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE i.indrelid = CAST(:t AS regclass)"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid)"),
            {"t": f"public.{table}"}).all()
        for name, _ in constraints:
            self.conn.exec_driver_sql(f"ALTER TABLE {ident('public', table)} DROP CONSTRAINT {ident(name)}")
        for name, _ in indexes:
            self.conn.exec_driver_sql(f"DROP INDEX {ident('public', name)}")
        yield
        for name, definition in constraints:
            self.conn.exec_driver_sql(
                f"ALTER TABLE {ident('public', table)} ADD CONSTRAINT {ident(name)} {definition}")
        for _, definition in indexes:
            self.conn.exec_driver_sql(definition)

    def run(self, sql: str) -> int:
        return self.conn.execute(sa.text(sql)).rowcount

    # -- shared expressions -------------------------------------------------
    def md5(self, table: str, n_sql: str) -> str:
        return f"md5('{self.seed}/{table}/' || ({n_sql}))"

    def uuid(self, table: str, n_sql: str) -> str:
        return f"{self.md5(table, n_sql)}::uuid"

    def user(self, idx_sql: str) -> str:
        """Slack-like user id (11 characters) of pool member ``idx`` (0-based)."""
        # Multiplying by an odd number permutes 0..2^24-1: unique, yet random-looking.
        return (f"('U' || upper(substr({self.md5('user', idx_sql)}, 1, 4))"
                f" || upper(lpad(to_hex(({idx_sql})::bigint * 7368787 % 16777216), 6, '0')))")

    def channel(self, idx_sql: str) -> str:
        return (f"('C' || upper(substr({self.md5('channel', idx_sql)}, 1, 2))"
                f" || upper(lpad(to_hex(({idx_sql})::bigint * 2654435761 % 4294967296), 8, '0')))")

    def task_id(self, k_sql: str) -> str:
        return self.uuid("tasks", k_sql)

    # -- tables ---------------------------------------------------------------
    def tasks(self) -> int:
        cols = self.columns("tasks")
        labels = self.labels("task_status")
        pool = [lb for lb in labels for _ in range(_STATUS_WEIGHTS.get(lb.lower(), 2))]
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
                f",\n       1 + {_rand(h, 0)} % 10,"
                f"\n       CASE WHEN lower(status) = 'completed' THEN 100"
                f" WHEN lower(status) IN ('pending', 'cancelled') THEN 0"
                f" ELSE 5 * (1 + {_rand(h, 1)} % 19) END,"
                f"\n       CASE WHEN {_rand(h, 2)} % 3 = 0 THEN NULL ELSE 0.5 * (1 + {_rand(h, 3)} % 32) END")
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
               {_pick(TASK_TITLES, 'r2')} || ' #' || n AS title,
               CASE WHEN r3 % 4 = 0 THEN NULL ELSE {_pick(TASK_DESCRIPTIONS, 'r3 / 4')} END
                   AS description,
               {assignee} AS assignee,
               {self.user(f'r1 % {self.users}')} AS creator,
               {_pick(pool, 'r4')} AS status,
               {_T0} + (r4 / {len(pool)} % {_YEAR_MINUTES}) * interval '1 minute' AS created_l,
               r5, r6, r7
        FROM (
            SELECT n, {_rand('h', 0)} AS r0, {_rand('h', 1)} AS r1, {_rand('h', 2)} AS r2,
                   {_rand('h', 3)} AS r3, {_rand('g', 0)} AS r4, {_rand('g', 1)} AS r5,
                   {_rand('g', 2)} AS r6, {_rand('g', 3)} AS r7
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
        prime = next(p for p in _PRIMES if total % p)
        step = max(1, _YEAR_SECONDS // total)
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
           json_build_object('role', 'user', 'content', {_pick(USER_MESSAGES, 'r0')}),
           json_build_object('role', 'assistant', 'content', {_pick(ASSISTANT_MESSAGES, 'r0')})),
       {cols.ts('created_at', f"last_l - (r1 % {30 * 24 * 60}) * interval '1 minute'")},
       {cols.ts('updated_at', 'last_l')},
       {cols.ts('last_message_at', 'last_l')}
FROM (
    SELECT n, k, r0, r1,
           {_T0} + ((n - 1) * {prime} % {total} * {step} + r2 % {step}) * interval '1 second'
               AS last_l
    FROM (
        SELECT n, {pair} AS k,
               {_rand('h', 0)} AS r0, {_rand('h', 1)} AS r1, {_rand('h', 2)} AS r2
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
        name = (f"{_pick([f for f, _ in FAMILY_NAMES], '(i - 1)')} || ' ' || "
                f"{_pick(GIVEN_NAMES, f'(i - 1) / {fam}')} || "
                f"CASE WHEN i > {fam * given} THEN ' ' || i ELSE '' END")
        return self.run(f"""
INSERT INTO employees (employee_id, name, is_active, created_at, updated_at)
SELECT {self.uuid('employees', 'i')}, {name}, {_rand('h', 0)} % 10 <> 0,
       {cols.ts('created_at', f"{_T0} - ({_rand('h', 1)} % 1000) * interval '1 day'")},
       {cols.ts('updated_at', f"{_T0} + ({_rand('h', 2)} % {_YEAR_MINUTES}) * interval '1 minute'")}
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
       {cols.ts('created_at', f"{_T0} - (i * 7) * interval '1 day'")},
       {cols.ts('updated_at', f"{_T0} - i * interval '1 day'")}
FROM (VALUES {values}) AS s (i, name, category, display_order)""")

    def employee_skills(self) -> int:
        cols = self.columns("employee_skills")
        acquired = f"{_T0} - ({_rand('h', 1)} % 2000) * interval '1 day'"
        return self.run(f"""
INSERT INTO employee_skills (id, employee_id, skill_id, acquired_at, created_at, updated_at)
SELECT {self.uuid('employee_skills', "e || '/' || s")},
       {self.uuid('employees', 'e')}, {self.uuid('business_skills', 's')},
       {cols.ts('acquired_at', acquired)},
       {cols.ts('created_at', f"{_T0} - ({_rand('h', 2)} % 30) * interval '1 day'")},
       {cols.ts('updated_at', _T0)}
FROM (SELECT e, s, {self.md5('employee_skills/a', "e || '/' || s")} AS h
      FROM generate_series(1, {self.employee_count()}) AS e,
           generate_series(1, {len(BUSINESS_SKILLS)}) AS s) AS pairs
WHERE {_rand('h', 0)} % 4 = 0""")

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
       {_pick(HANDOFF_NOTES, 'r3')}, {_pick(HANDOFF_NEXT_STEPS, 'r3')},
       {cols.ts('handoff_at', 'at_l')}"""
        source = f"""
FROM (
    SELECT i, r0, r1, r2, r3, {_pick(_HANDOFF_STATUSES, 'r3 / 7')} AS status,
           {_T0} + (r0 / 10 % {_YEAR_MINUTES}) * interval '1 minute' AS at_l
    FROM (SELECT i, {_rand('h', 0)} AS r0, {_rand('h', 1)} AS r1, {_rand('h', 2)} AS r2,
                 {_rand('h', 3)} AS r3
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
SELECT {self.uuid('notes', 'i')}, {self.user(f"{_rand('h', 0)} % {self.users}")},
       {_pick(NOTE_TEXTS, _rand('h', 1))}, {embedding},
       {cols.ts('created_at', f"{_T0} + ({_rand('h', 2)} % {_YEAR_MINUTES}) * interval '1 minute'")}
FROM (SELECT i, {self.md5('notes/a', 'i')} AS h
      FROM generate_series(1, {max(1, self.rows // 10)}) AS i) AS n""")

    def sessions(self) -> int:
        cols = self.columns("sessions")
        created = f"{_T0} + ({_rand('h', 2)} % {_YEAR_MINUTES}) * interval '1 minute'"
        modes = ("idle", "creating_task", "handoff", "skill_lookup")
        return self.run(f"""
INSERT INTO sessions (id, user_id, channel_id, state, created_at, updated_at)
SELECT {self.uuid('sessions', 'i')}, {self.user(f"{_rand('h', 0)} % {self.users}")},
       {self.channel(f"{_rand('h', 1)} % 20")},
       json_build_object('mode', {_pick(modes, _rand('h', 3))},
                         'turn', {_rand('h', 3)} % 12),
       {cols.ts('created_at', created)},
       {cols.ts('updated_at', f"{created} + ({_rand('h', 3)} % 600) * interval '1 minute'")}
FROM (SELECT i, {self.md5('sessions/a', 'i')} AS h
      FROM generate_series(1, {max(1, self.rows // 20)}) AS i) AS s""")

    def slack_users(self) -> int:
        cols = self.columns("slack_users")
        fam = len(FAMILY_NAMES)
        handle = f"{_pick([r for _, r in FAMILY_NAMES], 'i')} || '.' || i"
        family = _pick([f for f, _ in FAMILY_NAMES], "i")
        joined = f"{_T0} - (1 + {_rand('h', 0)} % 1500) * interval '1 day'"
        return self.run(f"""
INSERT INTO slack_users (user_id, name, real_name, display_name, email, is_admin, is_bot,
                         deleted, slack_created_at, synced_at, created_at, updated_at)
SELECT {self.user('i')}, {handle},
       {family} || ' ' || {_pick(GIVEN_NAMES, f'i / {fam}')},
       CASE WHEN i % 7 = 0 THEN NULL ELSE {family} END,
       CASE WHEN i % 40 = 39 THEN NULL ELSE {handle} || '@nakamura-misaki.example' END,
       i % 25 = 0, i % 40 = 39, i % 30 = 29,
       {cols.ts('slack_created_at', joined)},
       {cols.ts('synced_at', f"{_T0} + interval '1 year'")},
       {cols.ts('created_at', f"{_T0} + interval '1 year'")},
       {cols.ts('updated_at', f"{_T0} + interval '1 year'")}
FROM (SELECT i, {self.md5('slack_users/a', 'i')} AS h
      FROM generate_series(0, {self.users - 1}) AS i) AS u""")

    # -- the application's second chain, 002-006 (states S6, S7) -----------------
    def project_count(self) -> int:
        return min(max(2, self.rows // 20), len(PROJECT_NAMES) * 50)

    def projects(self) -> int:
        cols = self.columns("projects")
        count = self.project_count()
        name = (f"{_pick(PROJECT_NAMES, 'i - 1')} || CASE WHEN i > {len(PROJECT_NAMES)}"
                f" THEN ' (' || ((i - 1) / {len(PROJECT_NAMES)} + 1) || ')' ELSE '' END")
        created = f"{_T0} + ({_rand('h', 0)} % 200) * interval '1 day'"
        return self.run(f"""
INSERT INTO projects (project_id, name, description, owner_user_id, deadline, status,
                      created_at, updated_at)
SELECT {self.uuid('projects', 'i')}, {name},
       CASE WHEN i % 3 = 0 THEN NULL ELSE {_pick(PROJECT_DESCRIPTIONS, _rand('h', 1))} END,
       CASE WHEN i % 7 = 0 THEN NULL ELSE {self.user(f"{_rand('h', 2)} % {self.users}")} END,
       {cols.ts('deadline', f"CASE WHEN i % 4 = 0 THEN NULL ELSE {created} + interval '90 days' END")},
       {_pick(PROJECT_STATUSES, _rand('h', 3))},
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
       {cols.ts('created_at', f"{_T0} + (n % {_YEAR_MINUTES}) * interval '1 minute'")}
FROM (SELECT n, 1 + {_rand('h', 1)} % {self.project_count()} AS p, {_rand('h', 0)} AS r0
      FROM (SELECT n, {self.md5('project_tasks/a', 'n')} AS h
            FROM generate_series(1, {self.rows}) AS n) AS hashed) AS pt
WHERE r0 % 3 = 0""")

    def task_dependencies(self) -> int:
        cols = self.columns("task_dependencies")
        # Task n waits for an earlier task: never itself, and one row per blocked
        # task keeps (blocking, blocked) unique.
        return self.run(f"""
INSERT INTO task_dependencies (id, blocking_task_id, blocked_task_id, dependency_type, created_at)
SELECT {self.uuid('task_dependencies', 'n')}, {self.task_id(f"1 + {_rand('h', 1)} % (n - 1)")},
       {self.task_id('n')}, 'blocks',
       {cols.ts('created_at', f"{_T0} + (n % {_YEAR_MINUTES}) * interval '1 minute'")}
FROM (SELECT n, {self.md5('task_dependencies/a', 'n')} AS h
      FROM generate_series(2, {self.rows}) AS n) AS d
WHERE {_rand('h', 0)} % 5 = 0""")

    def daily_summaries(self) -> int:
        cols = self.columns("daily_summaries")
        people = min(self.users, 5)
        # One row per person and day for the last week of the generated year,
        # plus a team-wide row (user_id NULL) per day.
        day = f"(({_T0})::date + 358 + d)"
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
             {_rand('h', 0)} % 8 * CASE WHEN u = {people} THEN {people} ELSE 1 END AS done,
             {_rand('h', 1)} % 12 * CASE WHEN u = {people} THEN {people} ELSE 1 END AS pending
      FROM (SELECT d, u, {self.md5('daily_summaries/a', "d || '/' || u")} AS h
            FROM generate_series(0, 6) AS d, generate_series(0, {people}) AS u) AS hashed) AS s""")

    def team_metrics(self) -> int:
        cols = self.columns("team_metrics")
        day = f"(({_T0})::date + 358 + d)"
        return self.run(f"""
INSERT INTO team_metrics (id, date, metric_type, metric_value, metadata, created_at)
SELECT {self.uuid('team_metrics', "d || '/' || m")}, {day}, {_pick(METRIC_TYPES, 'm')},
       CASE m WHEN 0 THEN round(({_rand('h', 0)} % 1000) / 1000.0, 3)
              WHEN 1 THEN round((4 + {_rand('h', 0)} % 400 / 10.0)::numeric, 1)
              ELSE {_rand('h', 0)} % 9 END,
       CASE WHEN m = 2 AND d % 2 = 0 THEN NULL
            ELSE jsonb_build_object('source', 'daily_batch', 'window_days', 1,
                                    'sample_size', 5 + {_rand('h', 1)} % 40) END,
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
       {_pick(NOTIFICATION_TYPES, 'r0')}, {task}, {_pick(NOTIFICATION_TEXTS, 'r0')},
       {cols.ts('sent_at', "CASE WHEN r3 % 8 = 0 THEN NULL ELSE at_l + interval '1 minute' END")},
       {cols.ts('read_at', "CASE WHEN r3 % 8 <> 0 AND r3 % 3 = 0 THEN at_l + interval '2 hours' END")},
       {cols.ts('created_at', 'at_l')}
FROM (SELECT i, r0, r1, r2, r3, {_T0} + (r0 / 7 % {_YEAR_MINUTES}) * interval '1 minute' AS at_l
      FROM (SELECT i, {_rand('h', 0)} AS r0, {_rand('h', 1)} AS r1, {_rand('h', 2)} AS r2,
                   {_rand('h', 3)} AS r3
            FROM (SELECT i, {self.md5('notifications/a', 'i')} AS h
                  FROM generate_series(1, {max(1, self.rows // 5)}) AS i) AS hashed) AS r) AS n""")


def populate(
    conn: Connection,
    state: str,
    *,
    rows: int = 200,
    seed: int = 0,
    duplicate_ratio: float = 0.05,
    long_user_ids: bool = False,
) -> dict[str, int]:
    """Fill every application table present in ``conn``'s database; return rows per table.

    ``rows`` is the number of tasks and of conversations; the other tables are
    sized from it (users ``rows/20`` (min 5), employees ``rows/10`` (3..500),
    12 skills, handoffs and notes ``rows/10``, sessions ``rows/20``; in S6/S7
    projects ``rows/20`` (min 2), about a third of the tasks in a project and a
    fifth waiting on an earlier task, a week of daily summaries and team
    metrics, notifications ``rows/5``).
    ``duplicate_ratio`` of the conversations repeat an earlier (user_id,
    channel_id) pair. User ids are 11 characters; ``long_user_ids`` gives three
    tasks a 60-character assignee. Tables must be empty; the caller commits.
    """
    if state not in STATES:
        raise ValueError(f"unknown legacy state {state!r}; expected one of {STATES}")
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
        raise ValueError(f"rows must be a positive integer; got {rows!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer; got {seed!r}")
    if not 0 <= duplicate_ratio < 1:
        raise ValueError(f"duplicate_ratio must be in [0, 1); got {duplicate_ratio!r}")

    gen = _Gen(conn, rows, seed, duplicate_ratio, long_user_ids)
    present = gen.tables()
    if long_user_ids and "tasks" not in present:
        raise ValueError("long_user_ids needs a tasks table")
    # Asked before populate drops the bulk tables' indexes for speed.
    unique_pairs = "conversations" in present and gen.has_unique_index("conversations")
    # Parents before children (employee_skills, old handoffs -> tasks).
    fillers: list[tuple[str, Callable[[], int]]] = [
        ("tasks", gen.tasks),
        ("conversations", lambda: gen.conversations(unique_pairs=unique_pairs)),
        ("employees", gen.employees),
        ("business_skills", gen.business_skills),
        ("employee_skills", gen.employee_skills),
        ("slack_users", gen.slack_users),
        ("handoffs", lambda: gen.handoffs("tasks" in present)),
        ("notes", gen.notes),
        ("sessions", gen.sessions),
        # The application's 002-006 (S6, S7); project_tasks, task_dependencies and
        # notifications point at the generated tasks.
        ("projects", gen.projects),
        ("project_tasks", gen.project_tasks),
        ("task_dependencies", gen.task_dependencies),
        ("daily_summaries", gen.daily_summaries),
        ("team_metrics", gen.team_metrics),
        ("notifications", lambda: gen.notifications("tasks" in present)),
    ]
    counts: dict[str, int] = {}
    for table, fill in fillers:
        if table not in present:
            continue
        if table in _BULK_TABLES:
            with gen.indexes_deferred(table):
                counts[table] = fill()
        else:
            counts[table] = fill()
    return counts
