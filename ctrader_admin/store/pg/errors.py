"""What the team database said, in the operator's words: classified by SQLSTATE (psycopg's
exception classes) and, for a connection that could not be opened, by what libpq tells about it.

A failed connection carries no SQLSTATE (libpq keeps none for it), so its kind comes from the
connection's own flags where libpq has them (the server asked for a password), then from the
text as a last fallback. Only that fallback reads English: the server's FATAL lines follow its
``lc_messages``, and a server set to another language lands on "cannot be reached", which still
says nothing was written. Every sentence is a ``DatabaseError``; the unreachable and lost kinds
are ``DatabaseUnreachable`` (the app then works read-only from the last state it saw).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ctrader_admin.redaction import redact
from ctrader_admin.store.database import DatabaseError, DatabaseUnreachable

if TYPE_CHECKING:
    from ctrader_admin.store.pg.settings import TeamSettings

# SQLSTATEs a server sends when refusing a connection (psycopg keeps them when it has them).
_NO_DATABASE = "3D000"
_LOG_IN_REFUSED = ("28P01", "28000")
_SERVER_BUSY = ("53300", "57P03")  # too many connections; starting up or shutting down


def summary(exc: BaseException) -> str:
    """The library's reason, first line, redacted (it may name hosts; never the password)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[0] if lines else type(exc).__name__
    # libpq prefixes "connection failed: connection to server at "h" (a), port p failed: ".
    text = text.rsplit(" failed: ", 1)[-1]
    return redact(text)


def connect_failure_kind(exc: BaseException) -> str:
    """ "no-password", "no-database", "log-in", "busy", "tls" or "unreachable"."""
    sqlstate = getattr(exc, "sqlstate", None)
    if sqlstate == _NO_DATABASE:
        return "no-database"
    if sqlstate in _LOG_IN_REFUSED:
        return "log-in"
    if sqlstate in _SERVER_BUSY:
        return "busy"
    pgconn = getattr(exc, "pgconn", None)  # psycopg keeps the failed connection's libpq state
    if pgconn is not None and pgconn.needs_password:
        return "no-password"
    # Last fallback: libpq's and the server's English text (see the module's note).
    lowered = str(exc).lower()
    if "no password supplied" in lowered:
        return "no-password"
    if "does not exist" in lowered and 'database "' in lowered:
        return "no-database"
    if (
        "authentication failed" in lowered
        or ('role "' in lowered and "does not exist" in lowered)
        or "pg_hba.conf" in lowered
    ):
        return "log-in"
    if "too many clients" in lowered or "starting up" in lowered or "shutting down" in lowered:
        return "busy"
    if "ssl" in lowered or "certificate" in lowered or "tls" in lowered:
        return "tls"
    return "unreachable"


def connect_failure_in_words(exc: BaseException, settings: TeamSettings) -> DatabaseError:
    """Why a connection to the team database could not be opened, for the operator."""
    where = f"{settings.host}:{settings.port}"
    kind = connect_failure_kind(exc)
    if kind == "no-password":
        return DatabaseError(
            f"The team database server {where} asks for the password of {settings.user!r} and "
            "none is saved on this computer: enter it in the team settings (it is kept in the "
            "system keyring)."
        )
    if kind == "no-database":
        return DatabaseError(
            f"The team database {settings.database!r} does not exist on {where}: check its name "
            "or ask the team administrator."
        )
    if kind == "log-in":
        return DatabaseError(
            f"The team database server {where} refused the log-in of {settings.user!r}: check "
            "the user name and the password saved for it, or ask the team administrator to "
            "allow this user from this computer."
        )
    if kind == "tls":
        return DatabaseError(
            f"The secure (TLS) connection to the team database server {where} failed "
            f"({summary(exc)}). If the server's certificate comes from a private authority, set "
            "its CA bundle in the team settings; the connection is never made unverified."
        )
    if kind == "busy":
        return DatabaseUnreachable(
            f"The team database server {where} is not taking connections just now "
            f"({summary(exc)}): it may be starting, stopping or full. Nothing was written; "
            "try again in a moment."
        )
    return DatabaseUnreachable(
        f"The team database server {where} cannot be reached ({summary(exc)}). Check the "
        "server name and port and that the server is running; nothing was written."
    )


def failure_in_words(exc: BaseException, settings: TeamSettings) -> DatabaseError | None:
    """The sentence for what the server refused while connected; None for a bug (a syntax
    error, an undefined column: the app's own SQL, which a crash report should show). By the
    SQLSTATE's class: psycopg's exception classes follow the DB-API's (a serialization failure
    is an ``OperationalError``, like a lost connection), not the SQLSTATE classes."""
    import psycopg

    where = f"{settings.host}:{settings.port}"
    sqlstate = getattr(exc, "sqlstate", None) or ""
    if sqlstate == "42501":  # insufficient privilege
        return DatabaseError(
            f"The team database refused this to {settings.user!r} ({summary(exc)}): the team "
            "administrator has not granted it to this user."
        )
    if sqlstate == "P0001":  # RAISE EXCEPTION: our triggers' refusals
        return DatabaseError(f"The team database refused this: {summary(exc)}.")
    if sqlstate.startswith("23"):  # integrity constraint violation: the statement was undone
        return DatabaseError(
            f"The team database refused this change: {_constraint_in_words(exc)}. Nothing of it "
            "was stored."
        )
    if sqlstate.startswith("40"):  # transaction rollback: serialization failure, deadlock
        return DatabaseError(
            "The team database could not save this change because another workstation was "
            "changing the same records at the same moment. Nothing of it was stored: try again."
        )
    if sqlstate == "25006":  # read-only SQL transaction
        return DatabaseError(
            f"The team database server {where} accepts only reads just now (a standby, or a "
            "maintenance window). Nothing was stored; ask the team administrator."
        )
    if sqlstate == "57014":  # query cancelled
        return DatabaseError(
            "The team database cancelled this request (it took too long, or an administrator "
            "stopped it). Nothing of it was stored: try again."
        )
    if sqlstate.startswith("53"):  # insufficient resources: disk full, out of memory
        return DatabaseError(
            f"The team database server {where} is out of resources ({summary(exc)}). Nothing "
            "of it was stored; tell the team administrator."
        )
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        # Class 57 (an administrator's shutdown), 08 (connection), or no SQLSTATE at all: the
        # link to the server broke, and a COMMIT sent may or may not have arrived.
        return DatabaseUnreachable(
            f"The connection to the team database server {where} was lost ({summary(exc)}). A "
            "change being saved at that moment may or may not have been stored; the app "
            "reconnects on the next action."
        )
    return None


def _constraint_in_words(exc: BaseException) -> str:
    from psycopg import errors

    diag = getattr(exc, "diag", None)
    table = getattr(diag, "table_name", None) or "a table"
    if isinstance(exc, errors.UniqueViolation):
        return f"{table} already holds a record with the same key"
    if isinstance(exc, errors.ForeignKeyViolation):
        return "a record it refers to is not in the team database, or another still refers to it"
    if isinstance(exc, errors.NotNullViolation):
        column = getattr(diag, "column_name", None) or "a value"
        return f"{column} of {table} is required and was missing"
    if isinstance(exc, errors.CheckViolation):
        return f"a value is outside what {table} allows"
    return f"it conflicts with what {table} already holds"
