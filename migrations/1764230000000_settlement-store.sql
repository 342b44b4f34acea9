-- Up Migration
-- The settlement store: ingestion (modules, calls, receipts), the momentum chain and the gas
-- contract's state. Amounts are NUMERIC(78,0) (up to 2^256-1), gas and nonces NUMERIC(20,0)
-- (up to 2^64-1); none may go below zero. Hashes and addresses are 0x text; the columns the
-- sequencer orders by compare bytewise (COLLATE "C"), so the order never depends on the locale.

CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE modules (
  hash       TEXT PRIMARY KEY CHECK (hash ~ '^0x[0-9a-f]{64}$'),
  bytes      BYTEA NOT NULL,
  size_bytes INTEGER NOT NULL CHECK (size_bytes >= 0),
  stored_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE calls (
  hash            TEXT PRIMARY KEY CHECK (hash ~ '^0x[0-9a-f]{64}$'),
  from_address    TEXT COLLATE "C" NOT NULL,
  nonce           NUMERIC(20,0) NOT NULL CHECK (nonce >= 0),
  signed          JSONB NOT NULL,
  status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'applied', 'failed')),
  code            TEXT,
  result          JSONB,
  momentum_height BIGINT,
  submitted_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- One call per sender and nonce, except calls refused before any momentum (bad signature or
-- data slipped past the API): they hold no nonce, so the sender can use it again.
CREATE UNIQUE INDEX calls_sender_nonce ON calls (from_address, nonce) WHERE status <> 'failed' OR momentum_height IS NOT NULL;
CREATE INDEX calls_pending ON calls (status, from_address, nonce);

CREATE TABLE receipts (
  digest          TEXT PRIMARY KEY CHECK (digest ~ '^0x[0-9a-f]{64}$'),
  session_id      TEXT COLLATE "C" NOT NULL,
  seq             NUMERIC(20,0) NOT NULL CHECK (seq >= 0),
  signed          JSONB NOT NULL,
  state           TEXT NOT NULL DEFAULT 'stored' CHECK (state IN ('stored', 'verified', 'applied', 'rejected')),
  signer          TEXT,
  code            TEXT,
  outcome         TEXT,
  momentum_height BIGINT,
  submitted_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX receipts_state_submitted ON receipts (state, submitted_at);
CREATE INDEX receipts_verified_order ON receipts (session_id, seq) WHERE state = 'verified';

CREATE TABLE momentums (
  height       BIGINT PRIMARY KEY CHECK (height >= 0),
  hash         TEXT NOT NULL UNIQUE,
  prev_hash    TEXT NOT NULL,
  timestamp    NUMERIC(20,0) NOT NULL CHECK (timestamp >= 0),
  inputs       JSONB NOT NULL,
  results      JSONB NOT NULL,
  state_digest TEXT NOT NULL,
  committed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- ── the gas contract's state (docs/contract.md §State): one row per entity, every field of its
-- JSON view; nested lists are JSONB arrays with decimal strings. Written only by the sequencer.
-- `extra` keeps any field of the view that has no column of its own (so the row always
-- round-trips).
CREATE TABLE accounts (
  address TEXT PRIMARY KEY,
  balance NUMERIC(78,0) NOT NULL CHECK (balance >= 0),
  nonce   NUMERIC(20,0) NOT NULL CHECK (nonce >= 0),
  extra   JSONB NOT NULL DEFAULT '{}'
);

CREATE TABLE zapps (
  id                   TEXT PRIMARY KEY,
  owner                TEXT NOT NULL,
  module_hash          TEXT NOT NULL,
  available            NUMERIC(78,0) NOT NULL CHECK (available >= 0),
  held                 NUMERIC(78,0) NOT NULL CHECK (held >= 0),
  max_price_per_mgas   NUMERIC(78,0) NOT NULL CHECK (max_price_per_mgas >= 0),
  max_gas_per_session  NUMERIC(20,0) NOT NULL CHECK (max_gas_per_session >= 0),
  open_to_all          BOOLEAN NOT NULL,
  user_gas_per_day     NUMERIC(20,0) NOT NULL CHECK (user_gas_per_day >= 0),
  top_up_min_available NUMERIC(78,0) NOT NULL CHECK (top_up_min_available >= 0),
  top_up_refill        NUMERIC(78,0) NOT NULL CHECK (top_up_refill >= 0),
  extra                JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX zapps_owner ON zapps (owner);

CREATE TABLE providers (
  address          TEXT PRIMARY KEY,
  receipt_signer   TEXT NOT NULL,
  price_per_mgas   NUMERIC(78,0) NOT NULL CHECK (price_per_mgas >= 0),
  upfront_gas      NUMERIC(20,0) NOT NULL CHECK (upfront_gas >= 0),
  stake            NUMERIC(78,0) NOT NULL CHECK (stake >= 0),
  unbonding        JSONB NOT NULL CHECK (jsonb_typeof(unbonding) = 'array'),
  pending_earnings JSONB NOT NULL CHECK (jsonb_typeof(pending_earnings) = 'array'),
  pending_total    NUMERIC(78,0) NOT NULL CHECK (pending_total >= 0),
  claimable        NUMERIC(78,0) NOT NULL CHECK (claimable >= 0),
  open_sessions    INTEGER NOT NULL CHECK (open_sessions >= 0),
  extra            JSONB NOT NULL DEFAULT '{}'
);

CREATE TABLE sessions (
  id                   TEXT PRIMARY KEY,
  zapp_id              TEXT NOT NULL,
  provider             TEXT NOT NULL,
  user_address         TEXT NOT NULL,
  price                NUMERIC(78,0) NOT NULL CHECK (price >= 0),
  receipt_signer       TEXT NOT NULL,
  gas_limit            NUMERIC(20,0) NOT NULL CHECK (gas_limit >= 0),
  hold                 NUMERIC(78,0) NOT NULL CHECK (hold >= 0),
  upfront_gas          NUMERIC(20,0) NOT NULL CHECK (upfront_gas >= 0),
  settled_gas          NUMERIC(20,0) NOT NULL CHECK (settled_gas >= 0),
  billed_gas           NUMERIC(20,0) NOT NULL CHECK (billed_gas >= 0),
  last_seq             NUMERIC(20,0) NOT NULL CHECK (last_seq >= 0),
  last_receipt_hash    TEXT,
  last_post_state_hash TEXT NOT NULL,
  status               TEXT NOT NULL CHECK (status IN ('open', 'aborting', 'closed')),
  opened_at            NUMERIC(20,0) NOT NULL CHECK (opened_at >= 0),
  expires_at           NUMERIC(20,0) NOT NULL CHECK (expires_at >= 0),
  abort_cap            NUMERIC(20,0) CHECK (abort_cap >= 0),
  aborted_at           NUMERIC(20,0) CHECK (aborted_at >= 0),
  closed_at            NUMERIC(20,0) CHECK (closed_at >= 0),
  opened_by_user       BOOLEAN NOT NULL,
  slashed              BOOLEAN NOT NULL,
  challenge_floor_seq  NUMERIC(20,0) NOT NULL CHECK (challenge_floor_seq >= 0),
  settlements          JSONB NOT NULL CHECK (jsonb_typeof(settlements) = 'array'),
  gas_limits           JSONB NOT NULL CHECK (jsonb_typeof(gas_limits) = 'array'),
  extra                JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX sessions_provider ON sessions (provider, status);
CREATE INDEX sessions_zapp ON sessions (zapp_id);

-- Gas a user opened by itself on a zApp during one UTC day (key: zAppId:user).
CREATE TABLE user_gas (
  key      TEXT PRIMARY KEY,
  day      NUMERIC(20,0) NOT NULL CHECK (day >= 0),
  used_gas NUMERIC(20,0) NOT NULL CHECK (used_gas >= 0),
  extra    JSONB NOT NULL DEFAULT '{}'
);
