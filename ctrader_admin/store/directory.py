"""The local directory: users, accounts and links the app created, linked, read or imported.

The backend cannot list a user's accounts nor return a user by id, so the app remembers. Facts
arrive at different times and partially; merging follows two rules: a newer fact wins, and a
missing value (None) never erases a known one.

Size (~570 lines): one class, because the two merge rules apply to users, accounts and links in
the same transaction; the CSV import/export already lives apart (directory_csv.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from ctrader_admin.ids import ID_MAX, ID_MAX_DIGITS
from ctrader_admin.store.directory_csv import ImportPreview, ImportRow, preview_csv
from ctrader_admin.store.sql import Store
from ctrader_admin.store.timestamps import utc_iso

# Where a fact came from; free text so new sources need no migration.
SOURCE_CREATED = "created"
SOURCE_LINKED = "linked"
SOURCE_READ = "read"
SOURCE_IMPORT = "import"
SOURCE_MOVED = "move_wl"


@dataclass(frozen=True, slots=True)
class DirectoryUser:
    user_id: int
    email: str | None
    broker_name: str | None
    preferred_language: str | None
    created_ms: int | None
    source: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class DirectoryAccount:
    login: int
    environment: str
    broker_name: str | None
    user_id: int | None  # the owner, when known (from a link or an import)
    deposit_currency: str | None
    group_name: str | None
    registered_ms: int | None
    source: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class DirectoryLink:
    ctid_trader_account_id: int
    user_id: int
    login: int
    environment: str | None
    broker_name: str | None
    source: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class SearchHit:
    kind: Literal["user", "account", "link"]
    user_id: int | None
    email: str | None
    login: int | None
    environment: str | None
    ctid_trader_account_id: int | None
    broker_name: str | None
    exact: bool  # the text is the whole id or email, not just its start


@dataclass(frozen=True, slots=True)
class ImportCounts:
    users: int
    accounts: int
    links: int


_USER_COLUMNS = ("email", "email_key", "broker_name", "preferred_language", "created_ms")
_ACCOUNT_COLUMNS = ("broker_name", "user_id", "deposit_currency", "group_name", "registered_ms")
_LINK_COLUMNS = ("user_id", "login", "environment", "broker_name")


def _upsert_sql(table: str, keys: Sequence[str], values: Sequence[str]) -> str:
    """INSERT … ON CONFLICT that merges: newer non-null values win; null never erases."""
    columns = ["profile_id", *keys, *values, "source", "updated_at"]
    # The stored row's columns are named with the table: PostgreSQL refuses them unqualified
    # (ambiguous with ``excluded``), SQLite accepts both. CASE, not SQLite's max(): one spelling
    # for both engines.
    newer = f"excluded.updated_at >= {table}.updated_at"
    merged = [
        f"{c} = CASE WHEN {newer} "
        f"THEN coalesce(excluded.{c}, {table}.{c}) ELSE coalesce({table}.{c}, excluded.{c}) END"
        for c in values
    ]
    merged.append(f"source = CASE WHEN {newer} THEN excluded.source ELSE {table}.source END")
    merged.append(
        f"updated_at = CASE WHEN {newer} THEN excluded.updated_at ELSE {table}.updated_at END"
    )
    # Identifiers come from this module's constants, never from input.
    insert = f"INSERT INTO {table} ({', '.join(columns)}) "
    placeholders = f"VALUES ({', '.join('?' for _ in columns)}) "
    return (
        insert
        + placeholders
        + (f"ON CONFLICT (profile_id, {', '.join(keys)}) DO UPDATE SET {', '.join(merged)}")
    )


_UPSERT_USER = _upsert_sql("directory_users", ("user_id",), _USER_COLUMNS)
_UPSERT_ACCOUNT = _upsert_sql("directory_accounts", ("login", "environment"), _ACCOUNT_COLUMNS)
_UPSERT_LINK = _upsert_sql("directory_links", ("ctid_trader_account_id",), _LINK_COLUMNS)

_USER_SELECT = (
    "SELECT user_id, email, broker_name, preferred_language, created_ms, source, updated_at "
    "FROM directory_users"
)
_ACCOUNT_SELECT = (
    "SELECT login, environment, broker_name, user_id, deposit_currency, group_name, "
    "registered_ms, source, updated_at FROM directory_accounts"
)
_LINK_SELECT = (
    "SELECT ctid_trader_account_id, user_id, login, environment, broker_name, source, updated_at "
    "FROM directory_links"
)


def email_key(email: str | None) -> str | None:
    """How emails are compared: trimmed, case-insensitive."""
    return email.strip().casefold() if email else None


def _text(value: str | None) -> str | None:
    """Blank text carries no fact."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def _digit_prefix_ranges(prefix: str) -> list[tuple[int, int]]:
    """Integer ranges holding every positive id whose decimal form starts with ``prefix``.

    Range conditions use the primary-key index; CAST(id AS TEXT) LIKE '123%' would scan.
    """
    # isascii: "²" and other Unicode digits pass isdigit, and int() refuses or misreads them.
    if (
        not (prefix.isascii() and prefix.isdigit())
        or prefix.startswith("0")
        or len(prefix) > ID_MAX_DIGITS
    ):
        return []
    value = int(prefix)
    ranges: list[tuple[int, int]] = []
    scale = 1
    while value * scale <= ID_MAX:
        ranges.append((value * scale, min((value + 1) * scale - 1, ID_MAX)))
        scale *= 10
    return ranges


def _ranges_sql(column: str, ranges: list[tuple[int, int]]) -> tuple[str, list[int]]:
    clause = " OR ".join(f"{column} BETWEEN ? AND ?" for _ in ranges)
    return f"({clause})", [bound for pair in ranges for bound in pair]


class Directory:
    """All methods take the profile id: each backend has its own directory. The same SQL runs
    on SQLite and on the team database (store/sql.py)."""

    def __init__(self, database: Store) -> None:
        self._db = database

    @property
    def database(self) -> Store:
        """This workstation's database (the attribution ledger lives in it too)."""
        return self._db

    # --- writes ----------------------------------------------------------------------------

    def upsert_user(
        self,
        profile_id: str,
        user_id: int,
        *,
        source: str,
        email: str | None = None,
        broker_name: str | None = None,
        preferred_language: str | None = None,
        created_ms: int | None = None,
        observed_at: datetime | None = None,
    ) -> DirectoryUser:
        email = _text(email)
        params = (
            profile_id,
            user_id,
            email,
            email_key(email),
            _text(broker_name),
            _text(preferred_language),
            created_ms,
            source,
            utc_iso(observed_at),
        )
        with self._db.transaction() as conn:
            conn.execute(_UPSERT_USER, params)
        found = self.user(profile_id, user_id)
        assert found is not None
        return found

    def upsert_account(
        self,
        profile_id: str,
        login: int,
        environment: str,
        *,
        source: str,
        broker_name: str | None = None,
        user_id: int | None = None,
        deposit_currency: str | None = None,
        group_name: str | None = None,
        registered_ms: int | None = None,
        observed_at: datetime | None = None,
    ) -> DirectoryAccount:
        params = (
            profile_id,
            login,
            environment,
            _text(broker_name),
            user_id,
            _text(deposit_currency),
            _text(group_name),
            registered_ms,
            source,
            utc_iso(observed_at),
        )
        with self._db.transaction() as conn:
            conn.execute(_UPSERT_ACCOUNT, params)
        found = self.account(profile_id, login, environment)
        assert found is not None
        return found

    def upsert_link(
        self,
        profile_id: str,
        ctid_trader_account_id: int,
        *,
        user_id: int,
        login: int,
        source: str,
        environment: str | None = None,
        broker_name: str | None = None,
        observed_at: datetime | None = None,
    ) -> DirectoryLink:
        """Record a link; it also tells who owns the account, so the account row learns it."""
        at = utc_iso(observed_at)
        broker_name = _text(broker_name)
        environment = _text(environment)
        with self._db.transaction() as conn:
            conn.execute(
                _UPSERT_LINK,
                (
                    profile_id,
                    ctid_trader_account_id,
                    user_id,
                    login,
                    environment,
                    broker_name,
                    source,
                    at,
                ),
            )
            if environment is not None:
                conn.execute(
                    _UPSERT_ACCOUNT,
                    (
                        profile_id,
                        login,
                        environment,
                        broker_name,
                        user_id,
                        None,
                        None,
                        None,
                        source,
                        at,
                    ),
                )
        found = self.link_by_ctid(profile_id, ctid_trader_account_id)
        assert found is not None
        return found

    def move_account_wl(
        self,
        profile_id: str,
        login: int,
        environment: str,
        new_wl: str,
        *,
        observed_at: datetime | None = None,
    ) -> DirectoryAccount:
        """After a White Label transfer: the account and its links now belong to ``new_wl``."""
        at = utc_iso(observed_at)
        with self._db.transaction() as conn:
            conn.execute(
                _UPSERT_ACCOUNT,
                (profile_id, login, environment, new_wl, None, None, None, None, SOURCE_MOVED, at),
            )
            conn.execute(
                "UPDATE directory_links SET broker_name = ?, source = ?, updated_at = ? "
                "WHERE profile_id = ? AND login = ? AND environment = ? AND updated_at <= ?",
                (new_wl, SOURCE_MOVED, at, profile_id, login, environment, at),
            )
        found = self.account(profile_id, login, environment)
        assert found is not None
        return found

    # --- reads -----------------------------------------------------------------------------

    def user(self, profile_id: str, user_id: int) -> DirectoryUser | None:
        rows = self._users("WHERE profile_id = ? AND user_id = ?", (profile_id, user_id))
        return rows[0] if rows else None

    def users_by_email(self, profile_id: str, email: str) -> list[DirectoryUser]:
        return self._users(
            "WHERE profile_id = ? AND email_key = ? ORDER BY updated_at DESC",
            (profile_id, email_key(email)),
        )

    def account(self, profile_id: str, login: int, environment: str) -> DirectoryAccount | None:
        rows = self._accounts(
            "WHERE profile_id = ? AND login = ? AND environment = ?",
            (profile_id, login, environment),
        )
        return rows[0] if rows else None

    def accounts_for_login(self, profile_id: str, login: int) -> list[DirectoryAccount]:
        return self._accounts(
            "WHERE profile_id = ? AND login = ? ORDER BY environment", (profile_id, login)
        )

    def logins(self, profile_id: str) -> list[int]:
        """Every trading account login known here for the profile."""
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT DISTINCT login FROM directory_accounts WHERE profile_id = ? ORDER BY login",
                (profile_id,),
            ).fetchall()
        return [int(row[0]) for row in rows]

    def accounts_for_user(self, profile_id: str, user_id: int) -> list[DirectoryAccount]:
        return self._accounts(
            "WHERE profile_id = ? AND user_id = ? ORDER BY login, environment",
            (profile_id, user_id),
        )

    def link_by_ctid(self, profile_id: str, ctid_trader_account_id: int) -> DirectoryLink | None:
        rows = self._links(
            "WHERE profile_id = ? AND ctid_trader_account_id = ?",
            (profile_id, ctid_trader_account_id),
        )
        return rows[0] if rows else None

    def links_for_login(
        self, profile_id: str, login: int, environment: str | None = None
    ) -> list[DirectoryLink]:
        where = "WHERE profile_id = ? AND login = ?"
        params: tuple[object, ...] = (profile_id, login)
        if environment is not None:
            where += " AND environment = ?"
            params += (environment,)
        return self._links(f"{where} ORDER BY updated_at DESC", params)

    def link_count(self, profile_id: str) -> int:
        with self._db.read() as conn:
            (count,) = conn.execute(
                "SELECT COUNT(*) FROM directory_links WHERE profile_id = ?", (profile_id,)
            ).fetchone()
        return int(count)

    def links_for_user(self, profile_id: str, user_id: int) -> list[DirectoryLink]:
        return self._links(
            "WHERE profile_id = ? AND user_id = ? ORDER BY login, environment",
            (profile_id, user_id),
        )

    def search(self, profile_id: str, text: str, limit: int = 20) -> list[SearchHit]:
        """Prefix search over emails, userIds, logins and ctidTraderAccountIds.

        Exact matches come first, then users, accounts and links.
        """
        text = text.strip()
        if not text or limit <= 0:
            return []
        hits: list[SearchHit] = []
        key = email_key(text) or ""
        hits += [
            self._user_hit(u, exact=u.email is not None and email_key(u.email) == key)
            for u in self._users(
                "WHERE profile_id = ? AND email_key >= ? AND email_key < ? "
                "ORDER BY email_key LIMIT ?",
                (profile_id, key, key + "\U0010ffff", limit),
            )
        ]
        ranges = _digit_prefix_ranges(text)
        if ranges:
            exact = int(text)
            where, bounds = _ranges_sql("user_id", ranges)
            for u in self._users(
                f"WHERE profile_id = ? AND {where} ORDER BY user_id LIMIT ?",
                (profile_id, *bounds, limit),
            ):
                hits.append(self._user_hit(u, exact=u.user_id == exact))
            where, bounds = _ranges_sql("login", ranges)
            for a in self._accounts(
                f"WHERE profile_id = ? AND {where} ORDER BY login, environment LIMIT ?",
                (profile_id, *bounds, limit),
            ):
                hits.append(
                    SearchHit(
                        kind="account",
                        user_id=a.user_id,
                        email=None,
                        login=a.login,
                        environment=a.environment,
                        ctid_trader_account_id=None,
                        broker_name=a.broker_name,
                        exact=a.login == exact,
                    )
                )
            where, bounds = _ranges_sql("ctid_trader_account_id", ranges)
            for link in self._links(
                f"WHERE profile_id = ? AND {where} ORDER BY ctid_trader_account_id LIMIT ?",
                (profile_id, *bounds, limit),
            ):
                hits.append(
                    SearchHit(
                        kind="link",
                        user_id=link.user_id,
                        email=None,
                        login=link.login,
                        environment=link.environment,
                        ctid_trader_account_id=link.ctid_trader_account_id,
                        broker_name=link.broker_name,
                        exact=link.ctid_trader_account_id == exact,
                    )
                )
        order = {"user": 0, "account": 1, "link": 2}
        hits.sort(key=lambda h: (not h.exact, order[h.kind]))
        return hits[:limit]

    @staticmethod
    def _user_hit(user: DirectoryUser, *, exact: bool) -> SearchHit:
        return SearchHit(
            kind="user",
            user_id=user.user_id,
            email=user.email,
            login=None,
            environment=None,
            ctid_trader_account_id=None,
            broker_name=user.broker_name,
            exact=exact,
        )

    def _users(self, where: str, params: Sequence[object]) -> list[DirectoryUser]:
        with self._db.read() as conn:
            return [DirectoryUser(*row) for row in conn.execute(f"{_USER_SELECT} {where}", params)]

    def _accounts(self, where: str, params: Sequence[object]) -> list[DirectoryAccount]:
        with self._db.read() as conn:
            rows = conn.execute(f"{_ACCOUNT_SELECT} {where}", params).fetchall()
        return [DirectoryAccount(*row) for row in rows]

    def _links(self, where: str, params: Sequence[object]) -> list[DirectoryLink]:
        with self._db.read() as conn:
            return [DirectoryLink(*row) for row in conn.execute(f"{_LINK_SELECT} {where}", params)]

    # --- CSV import ------------------------------------------------------------------------

    @staticmethod
    def preview_csv(
        text: str,
        *,
        default_environment: str | None = None,
        known_environments: Iterable[str] | None = None,
    ) -> ImportPreview:
        """Check a CRM export without touching the database; see directory_csv.preview_csv."""
        return preview_csv(
            text, default_environment=default_environment, known_environments=known_environments
        )

    def import_rows(
        self,
        profile_id: str,
        rows: Iterable[ImportRow],
        *,
        observed_at: datetime | None = None,
    ) -> ImportCounts:
        """Write previewed rows in one transaction; counts are distinct records touched."""
        at = utc_iso(observed_at)
        users: set[int] = set()
        accounts: set[tuple[int, str]] = set()
        links: set[int] = set()
        with self._db.transaction() as conn:
            for row in rows:
                # A row without an account describes the user, so its brokerName is the user's.
                user_wl = row.broker_name if row.login is None else None
                conn.execute(
                    _UPSERT_USER,
                    (
                        profile_id,
                        row.user_id,
                        row.email,
                        email_key(row.email),
                        user_wl,
                        None,
                        None,
                        SOURCE_IMPORT,
                        at,
                    ),
                )
                users.add(row.user_id)
                if row.login is not None and row.environment is not None:
                    conn.execute(
                        _UPSERT_ACCOUNT,
                        (
                            profile_id,
                            row.login,
                            row.environment,
                            row.broker_name,
                            row.user_id,
                            None,
                            None,
                            None,
                            SOURCE_IMPORT,
                            at,
                        ),
                    )
                    accounts.add((row.login, row.environment))
                if row.ctid_trader_account_id is not None and row.login is not None:
                    conn.execute(
                        _UPSERT_LINK,
                        (
                            profile_id,
                            row.ctid_trader_account_id,
                            row.user_id,
                            row.login,
                            row.environment,
                            row.broker_name,
                            SOURCE_IMPORT,
                            at,
                        ),
                    )
                    links.add(row.ctid_trader_account_id)
        return ImportCounts(users=len(users), accounts=len(accounts), links=len(links))

    def merge_from(self, source: Directory) -> ImportCounts:
        """Every fact of another directory (a workstation's, into the team's), by the same merge
        rules: the newer fact wins, a missing value never erases. Joins the caller's
        transaction on this database, if any."""
        counts = []
        with self._db.transaction() as conn:
            for table, keys, values, upsert in (
                ("directory_users", ("user_id",), _USER_COLUMNS, _UPSERT_USER),
                ("directory_accounts", ("login", "environment"), _ACCOUNT_COLUMNS, _UPSERT_ACCOUNT),
                ("directory_links", ("ctid_trader_account_id",), _LINK_COLUMNS, _UPSERT_LINK),
            ):
                columns = ", ".join(["profile_id", *keys, *values, "source", "updated_at"])
                with source.database.read() as theirs:
                    rows = theirs.execute(f"SELECT {columns} FROM {table}").fetchall()  # noqa: S608
                conn.executemany(upsert, [tuple(row) for row in rows])
                counts.append(len(rows))
        return ImportCounts(users=counts[0], accounts=counts[1], links=counts[2])
