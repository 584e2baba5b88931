-- Multi-file upload sessions (API-core §13.9). Kept in SQLite rather than in
-- process memory (the reference's store), so any worker thread or process
-- can serve any of the three steps and a restart loses nothing. Sessions
-- are not tied to a server (§19 item 23: keep). Expired rows are purged
-- lazily at the start of each of the three calls.
CREATE TABLE IF NOT EXISTS upload_session (
	id TEXT NOT NULL,		-- random UUIDv4
	conflicts TEXT NOT NULL,	-- JSON array of OverwriteConflict, as answered
	policy TEXT,			-- JSON OverwritePolicy; NULL until set
	reusable INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,	-- unix usec
	expires_at INTEGER NOT NULL,	-- unix usec: created_at + files.upload_session_seconds
	PRIMARY KEY (id)
);
CREATE INDEX IF NOT EXISTS ix_upload_session_expires ON upload_session (expires_at);
