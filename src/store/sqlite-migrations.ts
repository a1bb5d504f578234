// Append only: a migration that shipped is never edited.
// Each entry moves the schema one version up; PRAGMA user_version says where a file is.
export const MIGRATIONS: string[] = [
  `CREATE TABLE users (
     id            TEXT PRIMARY KEY,
     email         TEXT NOT NULL UNIQUE,
     name          TEXT,
     password_hash TEXT NOT NULL,
     created_at    INTEGER NOT NULL
   ) STRICT;
   CREATE TABLE tokens (
     id           TEXT PRIMARY KEY,
     user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
     name         TEXT NOT NULL,
     token_type   TEXT NOT NULL CHECK (token_type IN ('session', 'api')),
     token_prefix TEXT NOT NULL,
     digest       BLOB NOT NULL UNIQUE,
     created_at   INTEGER NOT NULL,
     expires_at   INTEGER,
     last_used_at INTEGER,
     revoked_at   INTEGER
   ) STRICT;
   -- Serves every listing: the owner's tokens newest first, keyset by (created_at, id).
   CREATE INDEX tokens_by_owner ON tokens (user_id, created_at DESC, id DESC);
   CREATE TABLE meta (
     key   TEXT PRIMARY KEY,
     value BLOB NOT NULL
   ) STRICT;
   INSERT INTO meta (key, value) VALUES ('cursor_secret', randomblob(32));`,
  // Retention finds what ended long ago without reading every token.
  `CREATE INDEX tokens_by_revoked_at ON tokens (revoked_at) WHERE revoked_at IS NOT NULL;
   CREATE INDEX tokens_by_expires_at ON tokens (expires_at) WHERE expires_at IS NOT NULL;`,
  // Failed logins live with the data, so that every process on the file counts them.
  `CREATE TABLE login_failures (
     key BLOB NOT NULL,
     at  INTEGER NOT NULL
   ) STRICT;
   CREATE INDEX login_failures_by_key ON login_failures (key, at DESC);
   CREATE INDEX login_failures_by_at ON login_failures (at);`,
  // Scopes, space-separated: a token made before them could do all its owner could, so
  // it keeps '*'. And the client address of a token's last use.
  `ALTER TABLE tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT '*';
   ALTER TABLE tokens ADD COLUMN last_used_ip TEXT;`,
  // The revocation feed: every token that stops authenticating before its time (revoked,
  // deleted with its user while live, or its end brought forward: a rotation's grace) gets
  // the next seq. Triggers, not the statements that revoke: no path that revokes can
  // forget it. AUTOINCREMENT, so a seq is never reused after a purge; a rolled-back
  // revocation takes its seq back with it.
  `CREATE TABLE revocations (
     seq        INTEGER PRIMARY KEY AUTOINCREMENT,
     digest     BLOB NOT NULL,
     revoked_at INTEGER NOT NULL
   ) STRICT;
   CREATE INDEX revocations_by_revoked_at ON revocations (revoked_at);
   CREATE TRIGGER tokens_revoked AFTER UPDATE OF revoked_at ON tokens
     WHEN old.revoked_at IS NULL AND new.revoked_at IS NOT NULL
   BEGIN
     INSERT INTO revocations (digest, revoked_at) VALUES (new.digest, new.revoked_at);
   END;
   CREATE TRIGGER tokens_cut_short AFTER UPDATE OF expires_at ON tokens
     WHEN new.revoked_at IS NULL AND new.expires_at IS NOT NULL AND (old.expires_at IS NULL OR new.expires_at < old.expires_at)
   BEGIN
     INSERT INTO revocations (digest, revoked_at) VALUES (new.digest, new.expires_at);
   END;
   CREATE TRIGGER live_tokens_deleted AFTER DELETE ON tokens
     WHEN old.revoked_at IS NULL AND (old.expires_at IS NULL OR old.expires_at > CAST(unixepoch('subsec') * 1000 AS INTEGER))
   BEGIN
     INSERT INTO revocations (digest, revoked_at) VALUES (old.digest, CAST(unixepoch('subsec') * 1000 AS INTEGER));
   END;`,
  // Rotation: the id of the token that replaced this one. No foreign key: the purge may
  // delete either end of a rotation first.
  `ALTER TABLE tokens ADD COLUMN rotated_to TEXT;`,
  // Audit events and what is owed to others about them. Events keep their user's id after
  // the user is deleted (user.deleted must outlive them): no foreign key to users or tokens.
  // token_addresses: where each token was used, for token.new_ip and the token's detail.
  // Deliveries are queued in the transaction of their event (a webhook endpoint's, or the
  // owner's email); expiry_notices: which token.expiring notices a token has had (bits).
  `CREATE TABLE audit_events (
     id           TEXT PRIMARY KEY,
     user_id      TEXT NOT NULL,
     type         TEXT NOT NULL,
     at           INTEGER NOT NULL,
     token_id     TEXT,
     token_prefix TEXT,
     token_name   TEXT,
     ip           TEXT,
     user_agent   TEXT,
     detail       TEXT NOT NULL
   ) STRICT;
   CREATE INDEX audit_events_by_user ON audit_events (user_id, at DESC, id DESC);
   CREATE INDEX audit_events_by_user_type ON audit_events (user_id, type, at DESC, id DESC);
   CREATE INDEX audit_events_by_at ON audit_events (at);
   CREATE TABLE token_addresses (
     token_id   TEXT NOT NULL REFERENCES tokens(id) ON DELETE CASCADE,
     ip         TEXT NOT NULL,
     first_seen INTEGER NOT NULL,
     last_seen  INTEGER NOT NULL,
     PRIMARY KEY (token_id, ip)
   ) STRICT;
   CREATE INDEX token_addresses_by_last_seen ON token_addresses (last_seen);
   CREATE TABLE webhook_endpoints (
     id         TEXT PRIMARY KEY,
     url        TEXT NOT NULL,
     secret     TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     filtered   INTEGER NOT NULL
   ) STRICT;
   CREATE TABLE webhook_endpoint_events (
     endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
     type        TEXT NOT NULL,
     PRIMARY KEY (endpoint_id, type)
   ) STRICT;
   CREATE TABLE deliveries (
     id              INTEGER PRIMARY KEY AUTOINCREMENT,
     event_id        TEXT NOT NULL REFERENCES audit_events(id) ON DELETE CASCADE,
     channel         TEXT NOT NULL CHECK (channel IN ('webhook', 'email')),
     endpoint_id     TEXT REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
     created_at      INTEGER NOT NULL,
     state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
     attempts        INTEGER NOT NULL,
     next_attempt_at INTEGER,
     lease_until     INTEGER,
     last_attempt_at INTEGER,
     last_status     INTEGER,
     last_error      TEXT
   ) STRICT;
   CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state = 'pending';
   CREATE INDEX deliveries_by_event ON deliveries (event_id);
   CREATE INDEX deliveries_by_endpoint ON deliveries (endpoint_id);
   ALTER TABLE tokens ADD COLUMN expiry_notices INTEGER NOT NULL DEFAULT 0;`,
]
