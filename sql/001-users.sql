-- Users (API-core §5.1). "IF NOT EXISTS" lets a database made by the
-- reference implementation (same tables, user_version 0) be adopted as is.
-- Defaults are supplied by the application, as in the reference schema.
CREATE TABLE IF NOT EXISTS user (
	id INTEGER NOT NULL,
	username VARCHAR(50) NOT NULL,
	hashed_password VARCHAR(255) NOT NULL,
	role VARCHAR(5) NOT NULL,
	created_at DATETIME NOT NULL,
	PRIMARY KEY (id)
);
CREATE UNIQUE INDEX IF NOT EXISTS ix_user_username ON user (username);
