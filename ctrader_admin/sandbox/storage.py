"""SQLite access: one connection, one lock, short synchronous transactions.

The same sandbox may be served by uvicorn in one thread while tests read it from another, so
every access holds ``Storage``'s lock. Handlers are synchronous and run whole inside one
transaction: the lock is never held across an ``await``.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from .records import (
    TRADER_COLUMNS,
    Invitation,
    Link,
    Manager,
    Trader,
    TraderGroup,
    User,
    trader_from_row,
)
from .schema import ATTRIBUTION_SCHEMA, SCHEMA, SCHEMA_VERSION

# SQL assembled once from constant column names (never from input), so S608 does not apply.
_TRADER_SELECT = (
    "SELECT "  # noqa: S608
    + ", ".join(f"t.{column}" for column in TRADER_COLUMNS)
    + ", g.name FROM traders t JOIN trader_groups g ON g.id = t.group_id"
)
_INSERT_TRADER = (
    f"INSERT INTO traders ({', '.join(TRADER_COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join('?' for _ in TRADER_COLUMNS)})"
)
_USER_SELECT = (
    "SELECT u.user_id, u.email, u.nickname, u.broker_name, u.preferred_language, u.status, "
    "u.utc_create_ts FROM users u"
)
# Fresh ids continue from these when a table is still empty.
FIRST_USER_ID = 1_000_001
FIRST_CTID_TRADER_ACCOUNT_ID = 9_000_000


_BUSY_TIMEOUT_SECONDS = 10.0


class SchemaMismatchError(RuntimeError):
    """The database file was written by another version of the sandbox."""


class Storage:
    def __init__(self, path: str) -> None:
        # Several processes (the app, CLI commands) may open one sandbox file: a writer waits
        # for another's lock up to the timeout instead of failing at once.
        self._conn = sqlite3.connect(
            path, check_same_thread=False, isolation_level=None, timeout=_BUSY_TIMEOUT_SECONDS
        )
        self._lock = threading.Lock()
        try:
            self._conn.execute("PRAGMA foreign_keys = ON")
            if path != ":memory:":
                # WAL + NORMAL: durable enough for a sandbox, and no fsync on every write.
                self._conn.execute("PRAGMA journal_mode = WAL")
                self._conn.execute("PRAGMA synchronous = NORMAL")
            self._ensure_schema(path)
        except BaseException:
            self._conn.close()
            raise

    def _ensure_schema(self, path: str) -> None:
        (version,) = self._conn.execute("PRAGMA user_version").fetchone()
        if version == 0:
            # One script, one transaction: a crash never leaves half a schema behind.
            self._conn.executescript(
                f"BEGIN; {SCHEMA} {ATTRIBUTION_SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; "
                "COMMIT;"
            )
        elif version == 1:
            # A trainee's sandbox from before Invite attributions keeps its state; its Invite
            # list starts empty (control endpoints add rows).
            self._conn.executescript(
                f"BEGIN; {ATTRIBUTION_SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
            )
        elif version != SCHEMA_VERSION:
            raise SchemaMismatchError(
                f"{path} holds sandbox schema version {version}, this sandbox needs "
                f"{SCHEMA_VERSION}: use another --db file or delete this one"
            )

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """Hold the lock and run one transaction: committed on success, rolled back on error."""
        with self._lock:
            # IMMEDIATE: the write lock now, so a read-then-write cannot meet another process's
            # writer halfway (SQLite answers that with an immediate "database is locked").
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(self._conn)
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:  # SQLite may have rolled back already
                    self._conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class Tx:
    """Queries and updates inside one transaction. Only ``Storage.transaction`` creates one."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    # --- plant ---------------------------------------------------------------------------------

    def is_empty(self) -> bool:
        return self._conn.execute("SELECT 1 FROM managers LIMIT 1").fetchone() is None

    def white_label_exists(self, name: str) -> bool:
        row = self._conn.execute("SELECT 1 FROM white_labels WHERE name = ?", (name,)).fetchone()
        return row is not None

    def environment_exists(self, name: str) -> bool:
        row = self._conn.execute("SELECT 1 FROM environments WHERE name = ?", (name,)).fetchone()
        return row is not None

    def add_white_label(self, name: str, crm_name: str) -> None:
        self._conn.execute("INSERT INTO white_labels VALUES (?, ?)", (name, crm_name))

    def add_environment(self, name: str) -> None:
        self._conn.execute("INSERT INTO environments VALUES (?)", (name,))

    # --- managers and tokens -------------------------------------------------------------------

    def add_manager(
        self,
        login: int,
        password_md5: str,
        token: str,
        description: str,
        broker_names: Iterable[str],
    ) -> None:
        self._conn.execute(
            "INSERT INTO managers VALUES (?, ?, ?, ?)", (login, password_md5, token, description)
        )
        self._conn.executemany(
            "INSERT INTO manager_rights VALUES (?, ?, ?)",
            [(login, name, position) for position, name in enumerate(broker_names)],
        )

    def manager_by_token(self, token: str) -> Manager | None:
        """The manager holding this token, with its White Labels (one query: every request)."""
        rows = self._conn.execute(
            "SELECT m.login, r.broker_name FROM managers m "
            "LEFT JOIN manager_rights r ON r.manager_login = m.login "
            "WHERE m.token = ? ORDER BY r.position",
            (token,),
        ).fetchall()
        if not rows:
            return None
        return Manager(login=rows[0][0], broker_names=tuple(name for _, name in rows if name))

    def token_for(self, login: int, password_md5: str) -> tuple[str, bool] | None:
        """(token, freshly issued) for these credentials, or None if they are wrong.

        The token stays the same until invalidated; then the next request issues a new one.
        """
        row = self._conn.execute(
            "SELECT token FROM managers WHERE login = ? AND password_md5 = ?",
            (login, password_md5),
        ).fetchone()
        if row is None:
            return None
        if row[0] is not None:
            return str(row[0]), False
        token = str(uuid.uuid4())
        self._conn.execute("UPDATE managers SET token = ? WHERE login = ?", (token, login))
        return token, True

    def invalidate_token(self, login: int) -> None:
        self._conn.execute("UPDATE managers SET token = NULL WHERE login = ?", (login,))

    # --- users ---------------------------------------------------------------------------------

    def user(self, user_id: int) -> User | None:
        row = self._conn.execute(f"{_USER_SELECT} WHERE u.user_id = ?", (user_id,)).fetchone()
        return None if row is None else User(*row)

    def user_by_email(self, email: str) -> User | None:
        row = self._conn.execute(f"{_USER_SELECT} WHERE u.email = ?", (email,)).fetchone()
        return None if row is None else User(*row)

    def max_user_id(self) -> int:
        (last,) = self._conn.execute("SELECT MAX(user_id) FROM users").fetchone()
        return int(last or 0)

    def create_user(
        self, email: str, broker_name: str, preferred_language: str, created_ms: int
    ) -> User:
        user_id = max(FIRST_USER_ID, self.max_user_id() + 1)
        user = User(
            user_id=user_id,
            email=email,
            nickname=f"ctid{user_id}",
            broker_name=broker_name,
            preferred_language=preferred_language,
            status="CTID_NEW",
            utc_create_ts=created_ms,
        )
        self.add_users([user])
        return user

    def add_users(self, users: Iterable[User]) -> None:
        self._conn.executemany(
            "INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    u.user_id,
                    u.email,
                    u.nickname,
                    u.broker_name,
                    u.preferred_language,
                    u.status,
                    u.utc_create_ts,
                )
                for u in users
            ],
        )

    def users_page(
        self, manager_login: int, created_from_ms: int, limit: int, skip: int
    ) -> list[User]:
        """Users on the manager's White Labels, oldest first, for /v1/users."""
        rows = self._conn.execute(
            f"{_USER_SELECT} "
            "JOIN manager_rights r ON r.broker_name = u.broker_name AND r.manager_login = ? "
            "WHERE u.utc_create_ts >= ? ORDER BY u.utc_create_ts, u.user_id LIMIT ? OFFSET ?",
            (manager_login, created_from_ms, limit, skip),
        ).fetchall()
        return [User(*row) for row in rows]

    # --- traders -------------------------------------------------------------------------------

    def add_trader_groups(self, groups: Iterable[TraderGroup]) -> None:
        self._conn.executemany(
            "INSERT INTO trader_groups VALUES (?, ?, ?)",
            [(g.id, g.name, g.description) for g in groups],
        )

    def trader_groups(self) -> list[TraderGroup]:
        rows = self._conn.execute("SELECT id, name, description FROM trader_groups ORDER BY id")
        return [TraderGroup(*row) for row in rows.fetchall()]

    def trader_group_exists(self, group_id: int) -> bool:
        row = self._conn.execute("SELECT 1 FROM trader_groups WHERE id = ?", (group_id,))
        return row.fetchone() is not None

    def add_traders(self, traders: Iterable[Trader]) -> None:
        self._conn.executemany(
            _INSERT_TRADER, [tuple(getattr(t, c) for c in TRADER_COLUMNS) for t in traders]
        )

    def trader(self, login: int) -> tuple[Trader, str] | None:
        """The account and its group name."""
        row = self._conn.execute(f"{_TRADER_SELECT} WHERE t.login = ?", (login,)).fetchone()
        return None if row is None else (trader_from_row(row[:-1]), row[-1])

    def traders_page(
        self,
        manager_login: int,
        from_ms: int,
        to_ms: int,
        group_id: int | None,
        limit: int,
    ) -> list[tuple[Trader, str]]:
        """Accounts the manager may see with from <= registration < to, newest first."""
        rows = self._conn.execute(
            f"{_TRADER_SELECT} "
            "JOIN manager_rights r ON r.broker_name = t.broker_name AND r.manager_login = ? "
            "WHERE t.registration_ts >= ? AND t.registration_ts < ? "
            "AND (? IS NULL OR t.group_id = ?) "
            "ORDER BY t.registration_ts DESC LIMIT ?",
            (manager_login, from_ms, to_ms, group_id, group_id, limit),
        ).fetchall()
        return [(trader_from_row(row[:-1]), row[-1]) for row in rows]

    def move_trader(self, login: int, broker_name: str, updated_ms: int) -> None:
        self._conn.execute(
            "UPDATE traders SET broker_name = ?, last_update_ts = ? WHERE login = ?",
            (broker_name, updated_ms, login),
        )

    def logins(
        self,
        broker_name: str | None,
        environment: str | None,
        linked: bool | None,
    ) -> list[int]:
        rows = self._conn.execute(
            "SELECT t.login FROM traders t LEFT JOIN links l ON l.trader_login = t.login "
            "WHERE (? IS NULL OR t.broker_name = ?) AND (? IS NULL OR t.environment = ?) "
            "AND (? IS NULL OR (l.trader_login IS NOT NULL) = ?) ORDER BY t.login",
            (broker_name, broker_name, environment, environment, linked, linked),
        ).fetchall()
        return [login for (login,) in rows]

    # --- links ---------------------------------------------------------------------------------

    def link(self, ctid_trader_account_id: int) -> Link | None:
        row = self._conn.execute(
            "SELECT * FROM links WHERE ctid_trader_account_id = ?", (ctid_trader_account_id,)
        ).fetchone()
        return None if row is None else Link(*row)

    def link_of_trader(self, login: int) -> Link | None:
        row = self._conn.execute("SELECT * FROM links WHERE trader_login = ?", (login,)).fetchone()
        return None if row is None else Link(*row)

    def create_link(self, user_id: int, trader_login: int, environment: str) -> Link:
        (last,) = self._conn.execute("SELECT MAX(ctid_trader_account_id) FROM links").fetchone()
        link = Link(
            ctid_trader_account_id=max(FIRST_CTID_TRADER_ACCOUNT_ID, (last or 0) + 1),
            user_id=user_id,
            trader_login=trader_login,
            environment=environment,
        )
        self.add_links([link])
        return link

    def crm_rows(self) -> list[tuple[Any, ...]]:
        """(userId, email, login, ctidTraderAccountId, brokerName, environment, own partner
        code, referring partner code, attributed ms) per link, and one row per user without a
        link: what a broker's CRM export would list."""
        return self._conn.execute(
            "SELECT u.user_id, u.email, l.trader_login, l.ctid_trader_account_id, "
            "COALESCE(t.broker_name, u.broker_name), l.environment, "
            "p.partner_code, c.partner_code, c.attributed_ts "
            "FROM users u LEFT JOIN links l ON l.user_id = u.user_id "
            "LEFT JOIN traders t ON t.login = l.trader_login "
            "LEFT JOIN crm_partners p ON p.user_id = u.user_id "
            "LEFT JOIN crm_clients c ON c.user_id = u.user_id "
            "ORDER BY u.user_id, l.ctid_trader_account_id"
        ).fetchall()

    def add_links(self, links: Iterable[Link]) -> None:
        self._conn.executemany(
            "INSERT INTO links VALUES (?, ?, ?, ?)",
            [(k.ctid_trader_account_id, k.user_id, k.trader_login, k.environment) for k in links],
        )

    # --- referrals -----------------------------------------------------------------------------

    def user_referral(self, user_id: int) -> str | None:
        row = self._conn.execute(
            "SELECT partner_id FROM user_referrals WHERE user_id = ?", (user_id,)
        ).fetchone()
        return None if row is None else str(row[0])

    def set_user_referral(self, user_id: int, partner_id: str) -> None:
        self._conn.execute(
            "INSERT INTO user_referrals VALUES (?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET partner_id = excluded.partner_id",
            (user_id, partner_id),
        )

    def delete_user_referral(self, user_id: int) -> bool:
        cursor = self._conn.execute("DELETE FROM user_referrals WHERE user_id = ?", (user_id,))
        return cursor.rowcount > 0

    def account_referral(self, ctid_trader_account_id: int) -> str | None:
        row = self._conn.execute(
            "SELECT partner_id FROM account_referrals WHERE ctid_trader_account_id = ?",
            (ctid_trader_account_id,),
        ).fetchone()
        return None if row is None else str(row[0])

    def set_account_referral(self, ctid_trader_account_id: int, partner_id: str) -> None:
        self._conn.execute(
            "INSERT INTO account_referrals VALUES (?, ?) "
            "ON CONFLICT (ctid_trader_account_id) DO UPDATE SET partner_id = excluded.partner_id",
            (ctid_trader_account_id, partner_id),
        )

    def delete_account_referral(self, ctid_trader_account_id: int) -> bool:
        cursor = self._conn.execute(
            "DELETE FROM account_referrals WHERE ctid_trader_account_id = ?",
            (ctid_trader_account_id,),
        )
        return cursor.rowcount > 0

    def account_referrals_of_user(self, user_id: int) -> list[tuple[Link, str, str]]:
        """(link, partnerId, the linked account's brokerName) for each of the user's records."""
        rows = self._conn.execute(
            "SELECT l.ctid_trader_account_id, l.user_id, l.trader_login, l.environment, "
            "a.partner_id, t.broker_name FROM links l "
            "JOIN account_referrals a ON a.ctid_trader_account_id = l.ctid_trader_account_id "
            "JOIN traders t ON t.login = l.trader_login "
            "WHERE l.user_id = ? ORDER BY l.ctid_trader_account_id",
            (user_id,),
        ).fetchall()
        return [(Link(*row[:4]), row[4], row[5]) for row in rows]

    # --- cTrader Invite attributions and the CRM's view ----------------------------------------

    def add_invitations(self, invitations: Iterable[Invitation]) -> None:
        self._conn.executemany(
            "INSERT INTO invitations (invited_user_id, partner_user_id, broker_partner_id, "
            "broker_name, create_ts) VALUES (?, ?, ?, ?, ?)",
            [
                (
                    i.invited_user_id,
                    i.partner_user_id,
                    i.broker_partner_id,
                    i.broker_name,
                    i.create_ts,
                )
                for i in invitations
            ],
        )

    def invitations_page(
        self, manager_login: int, created_from_ms: int, limit: int, skip: int
    ) -> list[Invitation]:
        """Attributions of users on the manager's White Labels, oldest first."""
        rows = self._conn.execute(
            "SELECT i.invited_user_id, i.partner_user_id, i.broker_partner_id, i.broker_name, "
            "i.create_ts FROM invitations i "
            "JOIN manager_rights r ON r.broker_name = i.broker_name AND r.manager_login = ? "
            "WHERE i.create_ts >= ? ORDER BY i.create_ts, i.id LIMIT ? OFFSET ?",
            (manager_login, created_from_ms, limit, skip),
        ).fetchall()
        return [Invitation(*row) for row in rows]

    def latest_invitation_ts(self) -> int | None:
        (latest,) = self._conn.execute("SELECT MAX(create_ts) FROM invitations").fetchone()
        return None if latest is None else int(latest)

    def partner_codes(self) -> list[tuple[int, str]]:
        """(userId, a code registered on the user or one of its links), one row per user: the
        user-level code first. The partners that new invitations can come from."""
        rows = self._conn.execute(
            "SELECT user_id, partner_id FROM user_referrals UNION ALL "
            "SELECT l.user_id, a.partner_id FROM account_referrals a "
            "JOIN links l ON l.ctid_trader_account_id = a.ctid_trader_account_id "
            "WHERE l.user_id NOT IN (SELECT user_id FROM user_referrals) "
            "ORDER BY 1"
        ).fetchall()
        first: dict[int, str] = {}
        for user_id, code in rows:
            first.setdefault(int(user_id), str(code))
        return sorted(first.items())

    def crm_partner_code(self, user_id: int) -> str | None:
        row = self._conn.execute(
            "SELECT partner_code FROM crm_partners WHERE user_id = ?", (user_id,)
        ).fetchone()
        return None if row is None else str(row[0])

    def add_crm_partners(self, rows: Iterable[tuple[int, str]]) -> None:
        self._conn.executemany("INSERT INTO crm_partners VALUES (?, ?)", list(rows))

    def add_crm_clients(self, rows: Iterable[tuple[int, str, int]]) -> None:
        self._conn.executemany("INSERT INTO crm_clients VALUES (?, ?, ?)", list(rows))

    # --- hourly write window -------------------------------------------------------------------

    def writes_since(self, after: float) -> tuple[int, float | None]:
        """How many accepted writes arrived after ``after``, and the oldest of them."""
        count, oldest = self._conn.execute(
            "SELECT COUNT(*), MIN(at) FROM writes WHERE at > ?", (after,)
        ).fetchone()
        return int(count), oldest

    def record_write(self, at: float) -> None:
        self._conn.execute("INSERT INTO writes (at) VALUES (?)", (at,))

    def writes_between(self, start: float, end: float) -> int:
        (count,) = self._conn.execute(
            "SELECT COUNT(*) FROM writes WHERE at >= ? AND at < ?", (start, end)
        ).fetchone()
        return int(count)
