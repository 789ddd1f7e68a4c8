"""The sandbox's SQLite schema. Bump SCHEMA_VERSION whenever a table changes."""

from __future__ import annotations

SCHEMA_VERSION = 2

SCHEMA = """
CREATE TABLE white_labels (
    name TEXT PRIMARY KEY,
    crm_name TEXT NOT NULL
);
CREATE TABLE environments (
    name TEXT PRIMARY KEY
);
CREATE TABLE managers (
    login INTEGER PRIMARY KEY,
    password_md5 TEXT NOT NULL,
    token TEXT UNIQUE,               -- NULL once invalidated: the next token request issues one
    description TEXT NOT NULL
);
CREATE TABLE manager_rights (
    manager_login INTEGER NOT NULL REFERENCES managers (login),
    broker_name TEXT NOT NULL REFERENCES white_labels (name),
    position INTEGER NOT NULL,
    PRIMARY KEY (manager_login, broker_name)
);
CREATE TABLE trader_groups (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL
);
CREATE TABLE users (
    user_id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,   -- e-mails are ASCII here, so NOCASE is exact
    nickname TEXT NOT NULL,
    broker_name TEXT NOT NULL REFERENCES white_labels (name),
    preferred_language TEXT NOT NULL,
    status TEXT NOT NULL,
    utc_create_ts INTEGER NOT NULL
);
CREATE INDEX users_by_creation ON users (utc_create_ts, user_id);
CREATE TABLE traders (
    login INTEGER PRIMARY KEY,
    environment TEXT NOT NULL REFERENCES environments (name),
    password_md5 TEXT NOT NULL,
    group_id INTEGER NOT NULL REFERENCES trader_groups (id),
    broker_name TEXT NOT NULL REFERENCES white_labels (name),
    deposit_currency TEXT NOT NULL,
    name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    description TEXT NOT NULL,
    access_rights TEXT NOT NULL,
    account_type TEXT NOT NULL,
    balance INTEGER NOT NULL,
    bonus INTEGER NOT NULL,
    non_withdrawable_bonus INTEGER NOT NULL,
    equity INTEGER NOT NULL,
    used_margin INTEGER NOT NULL,
    free_margin INTEGER NOT NULL,
    cash_equity INTEGER NOT NULL,
    money_digits INTEGER NOT NULL,
    leverage_in_cents INTEGER NOT NULL,
    max_leverage INTEGER NOT NULL,
    total_margin_calculation_type TEXT NOT NULL,
    is_limited_risk INTEGER NOT NULL,
    swap_free INTEGER NOT NULL,
    send_own_statement INTEGER NOT NULL,
    send_statement_to_broker INTEGER NOT NULL,
    -- Unique, because clients page the trader list by the earliest timestamp they received.
    registration_ts INTEGER NOT NULL UNIQUE,
    last_update_ts INTEGER NOT NULL,
    last_connection_ts INTEGER NOT NULL,
    contact_address TEXT NOT NULL,
    contact_city TEXT NOT NULL,
    contact_country_id INTEGER NOT NULL,
    contact_email TEXT NOT NULL,
    contact_phone TEXT NOT NULL,
    contact_state TEXT NOT NULL,
    contact_zip_code TEXT NOT NULL,
    contact_introducing_broker1 TEXT NOT NULL,
    contact_introducing_broker2 TEXT NOT NULL
);
CREATE TABLE links (
    ctid_trader_account_id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (user_id),
    trader_login INTEGER NOT NULL UNIQUE REFERENCES traders (login),  -- linked at most once
    environment TEXT NOT NULL REFERENCES environments (name)
);
CREATE INDEX links_by_user ON links (user_id);
CREATE TABLE user_referrals (
    user_id INTEGER PRIMARY KEY REFERENCES users (user_id),
    partner_id TEXT NOT NULL
);
CREATE TABLE account_referrals (
    ctid_trader_account_id INTEGER PRIMARY KEY REFERENCES links (ctid_trader_account_id),
    partner_id TEXT NOT NULL
);
-- Accepted non-GET requests, by arrival time (the clock's seconds), for the hourly write cap.
CREATE TABLE writes (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL
);
CREATE INDEX writes_by_time ON writes (at);
"""

# Version 2 added cTrader Invite attributions and the CRM's own view of partners and clients.
ATTRIBUTION_SCHEMA = """
-- GET /v1/social/invitedUsers: one row per attribution; a re-attribution is a later row for
-- the same invited user. id breaks ties between equal timestamps (paging stays stable).
CREATE TABLE invitations (
    id INTEGER PRIMARY KEY,
    invited_user_id INTEGER NOT NULL REFERENCES users (user_id),
    partner_user_id INTEGER NOT NULL REFERENCES users (user_id),
    broker_partner_id TEXT,          -- NULL: the broker's id of this partner is not known
    broker_name TEXT NOT NULL REFERENCES white_labels (name),
    create_ts INTEGER NOT NULL
);
CREATE INDEX invitations_by_creation ON invitations (create_ts, id);
-- What the broker's CRM believes (no API: only the --export-crm CSV shows it).
CREATE TABLE crm_partners (
    user_id INTEGER PRIMARY KEY REFERENCES users (user_id),
    partner_code TEXT NOT NULL
);
CREATE TABLE crm_clients (
    user_id INTEGER PRIMARY KEY REFERENCES users (user_id),
    partner_code TEXT NOT NULL,
    attributed_ts INTEGER NOT NULL
);
"""
