// Append only: a migration that shipped is never edited.
import type { SQL } from 'bun'

type Migration = (tx: SQL) => Promise<unknown>

// Each entry moves the schema one version up; vai_schema.version says where a database is.
// Ids and emails compare byte by byte (COLLATE "C"), as in SQLite, so pages come in the
// same order on both backends. Names are bytea holding UTF-8: the contract allows U+0000
// in a name, which PostgreSQL's text cannot hold.
export const MIGRATIONS: Migration[] = [
  async (tx) => {
    await tx.unsafe(`
      CREATE TABLE users (
        id            text COLLATE "C" PRIMARY KEY,
        email         text COLLATE "C" NOT NULL UNIQUE,
        name          bytea,
        password_hash text NOT NULL,
        created_at    bigint NOT NULL
      );
      CREATE TABLE tokens (
        id           text COLLATE "C" PRIMARY KEY,
        user_id      text COLLATE "C" NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name         bytea NOT NULL,
        token_type   text NOT NULL CHECK (token_type IN ('session', 'api')),
        token_prefix text NOT NULL,
        digest       bytea NOT NULL UNIQUE,
        created_at   bigint NOT NULL,
        expires_at   bigint,
        last_used_at bigint,
        revoked_at   bigint
      );
      CREATE INDEX tokens_by_owner ON tokens (user_id, created_at DESC, id DESC);
      CREATE INDEX tokens_by_revoked_at ON tokens (revoked_at) WHERE revoked_at IS NOT NULL;
      CREATE INDEX tokens_by_expires_at ON tokens (expires_at) WHERE expires_at IS NOT NULL;
      CREATE TABLE login_failures (
        key bytea NOT NULL,
        at  bigint NOT NULL
      );
      CREATE INDEX login_failures_by_key ON login_failures (key, at DESC);
      CREATE INDEX login_failures_by_at ON login_failures (at);
      CREATE TABLE meta (
        key   text PRIMARY KEY,
        value bytea NOT NULL
      );`)
    await tx`INSERT INTO meta (key, value) VALUES ('cursor_secret', ${crypto.getRandomValues(new Uint8Array(32))})`
  },
  // Scopes, space-separated: a token made before them could do all its owner could, so
  // it keeps '*'. And the client address of a token's last use.
  async (tx) => {
    await tx.unsafe(`
      ALTER TABLE tokens ADD COLUMN scopes text NOT NULL DEFAULT '*';
      ALTER TABLE tokens ADD COLUMN last_used_ip text;`)
  },
  // The revocation feed: every token that stops authenticating before its time (revoked,
  // deleted with its user while live, or its end brought forward: a rotation's grace)
  // gets the next seq. Triggers, not the statements
  // that revoke: no path that revokes can forget it. The seq comes from one counter row,
  // updated at the end of each revoking statement and locked to the end of its
  // transaction: seqs commit in order and without gaps (a sequence would leave gaps on a
  // rollback, and let 5 commit before 4, so a reader past 5 would never see 4). Statement
  // triggers, so a statement has locked all its tokens before it asks for the counter.
  async (tx) => {
    await tx.unsafe(`
      CREATE TABLE revocation_counter (
        only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
        seq      bigint NOT NULL
      );
      INSERT INTO revocation_counter (seq) VALUES (0);
      CREATE TABLE revocations (
        seq        bigint PRIMARY KEY,
        digest     bytea NOT NULL,
        revoked_at bigint NOT NULL
      );
      CREATE INDEX revocations_by_revoked_at ON revocations (revoked_at);
      -- The tokens a statement ended, numbered from the counter (left alone, unlocked, when none).
      CREATE FUNCTION vai_tokens_revoked() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        WITH ended AS (
          SELECT n.digest, coalesce(n.revoked_at, n.expires_at) AS revoked_at FROM new_tokens n JOIN old_tokens o USING (id)
          WHERE o.revoked_at IS NULL
            AND (n.revoked_at IS NOT NULL OR (n.expires_at IS NOT NULL AND (o.expires_at IS NULL OR n.expires_at < o.expires_at)))
        ), counter AS (
          UPDATE revocation_counter SET seq = seq + (SELECT count(*) FROM ended)
          WHERE EXISTS (SELECT 1 FROM ended) RETURNING seq - (SELECT count(*) FROM ended) AS first
        )
        INSERT INTO revocations (seq, digest, revoked_at)
        SELECT counter.first + row_number() OVER (ORDER BY ended.revoked_at, ended.digest), ended.digest, ended.revoked_at
        FROM ended, counter;
        RETURN NULL;
      END $$;
      CREATE FUNCTION vai_live_tokens_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE now_ms bigint := (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
      BEGIN
        WITH ended AS (
          SELECT o.digest FROM old_tokens o
          WHERE o.revoked_at IS NULL AND (o.expires_at IS NULL OR o.expires_at > now_ms)
        ), counter AS (
          UPDATE revocation_counter SET seq = seq + (SELECT count(*) FROM ended)
          WHERE EXISTS (SELECT 1 FROM ended) RETURNING seq - (SELECT count(*) FROM ended) AS first
        )
        INSERT INTO revocations (seq, digest, revoked_at)
        SELECT counter.first + row_number() OVER (ORDER BY ended.digest), ended.digest, now_ms
        FROM ended, counter;
        RETURN NULL;
      END $$;
      CREATE TRIGGER tokens_revoked AFTER UPDATE ON tokens
        REFERENCING OLD TABLE AS old_tokens NEW TABLE AS new_tokens
        FOR EACH STATEMENT EXECUTE FUNCTION vai_tokens_revoked();
      CREATE TRIGGER live_tokens_deleted AFTER DELETE ON tokens
        REFERENCING OLD TABLE AS old_tokens
        FOR EACH STATEMENT EXECUTE FUNCTION vai_live_tokens_deleted();`)
  },
  // Rotation: the id of the token that replaced this one. No foreign key: the purge may
  // delete either end of a rotation first.
  async (tx) => {
    await tx.unsafe('ALTER TABLE tokens ADD COLUMN rotated_to text COLLATE "C"')
  },
  // Audit events, token addresses, webhook endpoints and the deliveries owed: as in SQLite's
  // migration 7. Names are UTF-8 in bytea like every name here.
  async (tx) => {
    await tx.unsafe(`
      CREATE TABLE audit_events (
        id           text COLLATE "C" PRIMARY KEY,
        user_id      text COLLATE "C" NOT NULL,
        type         text COLLATE "C" NOT NULL,
        at           bigint NOT NULL,
        token_id     text COLLATE "C",
        token_prefix text COLLATE "C",
        token_name   bytea,
        ip           text,
        user_agent   text,
        detail       text NOT NULL
      );
      CREATE INDEX audit_events_by_user ON audit_events (user_id, at DESC, id DESC);
      CREATE INDEX audit_events_by_user_type ON audit_events (user_id, type, at DESC, id DESC);
      CREATE INDEX audit_events_by_at ON audit_events (at);
      CREATE TABLE token_addresses (
        token_id   text COLLATE "C" NOT NULL REFERENCES tokens(id) ON DELETE CASCADE,
        ip         text NOT NULL,
        first_seen bigint NOT NULL,
        last_seen  bigint NOT NULL,
        PRIMARY KEY (token_id, ip)
      );
      CREATE INDEX token_addresses_by_last_seen ON token_addresses (last_seen);
      CREATE TABLE webhook_endpoints (
        id         text COLLATE "C" PRIMARY KEY,
        url        text NOT NULL,
        secret     text NOT NULL,
        created_at bigint NOT NULL,
        filtered   integer NOT NULL
      );
      CREATE TABLE webhook_endpoint_events (
        endpoint_id text COLLATE "C" NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
        type        text COLLATE "C" NOT NULL,
        PRIMARY KEY (endpoint_id, type)
      );
      CREATE TABLE deliveries (
        id              bigserial PRIMARY KEY,
        event_id        text COLLATE "C" NOT NULL REFERENCES audit_events(id) ON DELETE CASCADE,
        channel         text NOT NULL CHECK (channel IN ('webhook', 'email')),
        endpoint_id     text COLLATE "C" REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
        created_at      bigint NOT NULL,
        state           text NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
        attempts        integer NOT NULL,
        next_attempt_at bigint,
        lease_until     bigint,
        last_attempt_at bigint,
        last_status     integer,
        last_error      text
      );
      CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state = 'pending';
      CREATE INDEX deliveries_by_event ON deliveries (event_id);
      CREATE INDEX deliveries_by_endpoint ON deliveries (endpoint_id);
      ALTER TABLE tokens ADD COLUMN expiry_notices integer NOT NULL DEFAULT 0;`)
  },
]
