"""The team database on PostgreSQL (issue 13; docs/team-mode.md). psycopg is imported only here,
and only when a team database is opened: the SQLite path never loads it."""
