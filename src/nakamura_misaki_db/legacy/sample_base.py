"""Sample data, the common part: texts and weights, SQL helpers, and the generator's catalog reads.

Every row is generated server-side (``INSERT ... SELECT ... FROM generate_series``);
randomness is md5 of (seed, table, row number), so the same seed gives the same rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from nakamura_misaki_db.schema.quoting import ident, literal

APP_TIME_ZONE = "Asia/Tokyo"
# Naive Tokyo wall clock where generated history starts (built without a
# string literal so no ':' reaches SQLAlchemy's bind-parameter parser).
T0 = "make_timestamp(2024, 4, 1, 9, 0, 0)"
YEAR_MINUTES = 365 * 24 * 60
YEAR_SECONDS = YEAR_MINUTES * 60
LONG_USER_ID_LENGTH = 60
LONG_USER_ID_COUNT = 3
# Fixed-width hex suffixes keep generated ids unique; this bounds the user pool.
MAX_USERS = 16**6

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
STATUS_WEIGHTS = {"pending": 7, "in_progress": 5, "completed": 7, "cancelled": 1}
HANDOFF_STATUSES: tuple[str, ...] = ("pending", "pending", "accepted", "completed")
# The tables sized by ``rows`` itself (a million in the benchmark).
BULK_TABLES = frozenset({"tasks", "conversations"})
PRIMES: tuple[int, ...] = (1_000_003, 999_983, 7_919)


def pick(values: Sequence[str], index_sql: str) -> str:
    """SQL choosing ``values[index % len]``."""
    array = ", ".join(literal(v) for v in values)
    return f"(ARRAY[{array}]::text[])[1 + ({index_sql}) % {len(values)}]"


def rand(hash_sql: str, word: int) -> str:
    """The ``word``-th (0-3) unsigned 32-bit number of an md5 hex string."""
    return f"('x' || substr({hash_sql}, {8 * word + 1}, 8))::bit(32)::bigint"


@dataclass
class Columns:
    types: dict[str, str]
    widths: dict[str, int | None]

    def ts(self, column: str, naive_tokyo_sql: str) -> str:
        """A Tokyo wall-clock value, as the column's type wants it."""
        if self.types[column] == "timestamp with time zone":
            return f"(({naive_tokyo_sql}) AT TIME ZONE {literal(APP_TIME_ZONE)})"
        return f"({naive_tokyo_sql})"


@dataclass
class RowGenerator:
    conn: Connection
    rows: int
    seed: int
    duplicate_ratio: float
    long_user_ids: bool
    users: int = field(init=False)

    def __post_init__(self) -> None:
        self.users = min(max(5, self.rows // 20), MAX_USERS)

    # -- catalog -------------------------------------------------------------
    def tables(self) -> set[str]:
        return set(self.conn.execute(sa.text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')")).scalars())

    def columns(self, table: str) -> Columns:
        result = self.conn.execute(sa.text(
            "SELECT column_name, data_type, character_maximum_length"
            " FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name = :t"), {"t": table}).all()
        return Columns({r[0]: r[1] for r in result}, {r[0]: r[2] for r in result})

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

