-- Login codes (API-core §7.2, §17.1). One row per open /api/auth/code
-- WebSocket of mc-admin-ws, which owns the table: it inserts the row when
-- the socket opens, replaces the code at every rotation and deletes the row
-- the moment the socket closes (and every row when it starts, since the
-- sockets of an earlier run are gone). POST /api/auth/verifyCode, served by
-- mc-admin-api, only marks a row with the verified user; mc-admin-ws picks
-- the mark up within ws.login_poll_ms, issues the JWT itself and pushes it.
-- So no token is ever stored, and the table is the one source of truth.
CREATE TABLE IF NOT EXISTS login_code (
	id INTEGER NOT NULL,
	code TEXT NOT NULL,		-- 8 digits from a CSPRNG, unique among open sockets
	expires_at INTEGER NOT NULL,	-- unix usec: a code outlives its rotation by
					-- at most a second even if the daemon died
	user_id INTEGER,		-- set by verifyCode, cleared on delivery
	PRIMARY KEY (id)
);
CREATE UNIQUE INDEX IF NOT EXISTS ix_login_code_code ON login_code (code);
CREATE INDEX IF NOT EXISTS ix_login_code_verified ON login_code (id) WHERE user_id IS NOT NULL;
