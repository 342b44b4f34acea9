-- Up Migration
-- Protocol v2 (docs/contract.md §Version 2): a new EIP-712 domain version, new state, new receipts.
-- Nothing of a v1 store is valid in v2 (its signatures, momentums and state), so every v1 table but
-- the content-addressed modules is replaced.
--
-- Amounts and gas are NUMERIC(78,0) with CHECK (>= 0) through three domains that also carry the
-- upper bound of their protocol type: a value the contract cannot hold is refused at commit, so a
-- state the host commits always loads (docs/contract.md §Invariants). Hashes and addresses are 0x
-- text; the columns the sequencer orders by compare bytewise (COLLATE "C").

DROP TABLE IF EXISTS user_gas, sessions, providers, zapps, accounts, momentums, receipts, calls, meta;

CREATE DOMAIN qsr_amount AS NUMERIC(78,0)
  CHECK (VALUE >= 0 AND VALUE <= 115792089237316195423570985008687907853269984665640564039457584007913129639935);
CREATE DOMAIN gas_amount AS NUMERIC(78,0)
  CHECK (VALUE >= 0 AND VALUE <= 18446744073709551615);
-- Nonces, sequence numbers, unix seconds, day numbers: uint64.
CREATE DOMAIN uint64 AS NUMERIC(78,0)
  CHECK (VALUE >= 0 AND VALUE <= 18446744073709551615);

CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE calls (
  hash            TEXT PRIMARY KEY CHECK (hash ~ '^0x[0-9a-f]{64}$'),
  from_address    TEXT COLLATE "C" NOT NULL,
  nonce           uint64 NOT NULL,
  signed          JSONB NOT NULL,
  status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'applied', 'failed')),
  code            TEXT,
  result          JSONB,
  momentum_height BIGINT,
  submitted_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- One call per sender and nonce, except calls refused before any momentum: they hold no nonce.
CREATE UNIQUE INDEX calls_sender_nonce ON calls (from_address, nonce) WHERE status <> 'failed' OR momentum_height IS NOT NULL;
CREATE INDEX calls_pending ON calls (status, from_address, nonce);

-- Settlement receipts as submitted. A row is one copy: the receipt (identity: its EIP-712 digest)
-- with its two signatures, keyed by SHA3-256(digest ‖ signature ‖ invocationSignature). Copies of
-- one receipt with other signatures are other rows, so a wrongly signed copy posted first never
-- suppresses the right one (docs/protocol.md §The settlement pipeline); the contract de-duplicates
-- by digest.
CREATE TABLE receipts (
  copy_key          TEXT PRIMARY KEY CHECK (copy_key ~ '^0x[0-9a-f]{64}$'),
  digest            TEXT COLLATE "C" NOT NULL CHECK (digest ~ '^0x[0-9a-f]{64}$'),
  session_id        TEXT COLLATE "C" NOT NULL,
  seq               uint64 NOT NULL,
  signed            JSONB NOT NULL,
  -- Who posted it (the client address): unverified intake is bounded per submitter.
  submitter         TEXT NOT NULL,
  size_bytes        INTEGER NOT NULL CHECK (size_bytes >= 0),
  state             TEXT NOT NULL DEFAULT 'stored' CHECK (state IN ('stored', 'verified', 'applied', 'rejected')),
  signer            TEXT,
  invocation_signer TEXT,
  code              TEXT,
  outcome           TEXT,
  momentum_height   BIGINT,
  submitted_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX receipts_digest ON receipts (digest);
CREATE INDEX receipts_stored_submitted ON receipts (submitted_at, copy_key) WHERE state = 'stored';
CREATE INDEX receipts_stored_submitter ON receipts (submitter) WHERE state = 'stored';
CREATE INDEX receipts_verified_order ON receipts (session_id, seq, copy_key) WHERE state = 'verified';
CREATE INDEX receipts_rejected_updated ON receipts (updated_at) WHERE state = 'rejected';

CREATE TABLE momentums (
  height       BIGINT PRIMARY KEY CHECK (height >= 0),
  hash         TEXT NOT NULL UNIQUE,
  prev_hash    TEXT NOT NULL,
  timestamp    uint64 NOT NULL,
  inputs       JSON NOT NULL,
  results      JSON NOT NULL,
  state_digest TEXT NOT NULL,
  committed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- ── the gas contract's state (docs/contract.md §State): one row per entity, one column per field
-- of its JSON view (nested objects flattened), lists as JSONB arrays of decimal strings. Written
-- only by the sequencer. `extra` would keep a field of a view that has no column yet, so a row
-- always round-trips; with every field mapped it stays '{}'.
CREATE TABLE accounts (
  address TEXT PRIMARY KEY,
  balance qsr_amount NOT NULL,
  nonce   uint64 NOT NULL,
  extra   JSONB NOT NULL DEFAULT '{}'
);

CREATE TABLE zapps (
  id                   TEXT PRIMARY KEY,
  owner                TEXT NOT NULL,
  module_hash          TEXT NOT NULL,
  available            qsr_amount NOT NULL,
  held                 qsr_amount NOT NULL,
  max_price_per_mgas   qsr_amount NOT NULL,
  max_gas_per_session  gas_amount NOT NULL,
  open_to_all          BOOLEAN NOT NULL,
  open_gas_per_day     gas_amount NOT NULL,
  top_up_min_available qsr_amount NOT NULL,
  top_up_refill        qsr_amount NOT NULL,
  open_gas_today       gas_amount NOT NULL,
  open_gas_day         uint64 NOT NULL,
  extra                JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX zapps_owner ON zapps (owner);

CREATE TABLE providers (
  address             TEXT PRIMARY KEY,
  receipt_signer      TEXT NOT NULL,
  price_per_mgas      qsr_amount NOT NULL,
  upfront_gas         gas_amount NOT NULL,
  stake               qsr_amount NOT NULL,
  unbonding           JSONB NOT NULL CHECK (jsonb_typeof(unbonding) = 'array'),
  pending_earnings    JSONB NOT NULL CHECK (jsonb_typeof(pending_earnings) = 'array'),
  pending_total       qsr_amount NOT NULL,
  claimable           qsr_amount NOT NULL,
  accepting           BOOLEAN NOT NULL,
  live_sessions       INTEGER NOT NULL CHECK (live_sessions >= 0),
  challengeable_until uint64 NOT NULL,
  extra               JSONB NOT NULL DEFAULT '{}'
);

CREATE TABLE sessions (
  id                   TEXT PRIMARY KEY,
  zapp_id              TEXT NOT NULL,
  provider             TEXT NOT NULL,
  user_address         TEXT NOT NULL,
  opened_by_owner      BOOLEAN NOT NULL,
  price                qsr_amount NOT NULL,
  receipt_signer       TEXT NOT NULL,
  gas_limit            gas_amount NOT NULL,
  hold                 qsr_amount NOT NULL,
  upfront_gas          gas_amount NOT NULL,
  settled_gas          gas_amount NOT NULL,
  billed_gas           gas_amount NOT NULL,
  last_seq             uint64 NOT NULL,
  last_receipt_hash    TEXT,
  last_post_state_hash TEXT NOT NULL,
  last_invocation      JSONB CHECK (last_invocation IS NULL OR jsonb_typeof(last_invocation) = 'object'),
  coverage_floor_seq   uint64 NOT NULL,
  coverage             JSONB NOT NULL CHECK (jsonb_typeof(coverage) = 'array'),
  judged_seqs          JSONB NOT NULL CHECK (jsonb_typeof(judged_seqs) = 'array'),
  status               TEXT NOT NULL CHECK (status IN ('open', 'closing', 'closed')),
  stop_call            BOOLEAN NOT NULL,
  slashed              BOOLEAN NOT NULL,
  opened_at            uint64 NOT NULL,
  expires_at           uint64 NOT NULL,
  closes_at            uint64,
  finalized_at         uint64,
  extra                JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX sessions_provider ON sessions (provider, status);
CREATE INDEX sessions_zapp ON sessions (zapp_id);

-- The contract's global counters: one row.
CREATE TABLE contract_globals (
  id     INTEGER PRIMARY KEY CHECK (id = 1),
  burned qsr_amount NOT NULL
);
