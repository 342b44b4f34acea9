/**
 * The one registry of every failure zgas can report. Each code is stable (clients match on it),
 * carries the HTTP status the API answers with, and a message that tells the caller what to fix.
 * Sections: units and encoding, signatures, the gas contract, the runner, the services.
 */
export const errors = {
  // ── units and encoding ────────────────────────────────────────────────────────────────
  InvalidAmount: { status: 400, message: 'amounts are decimal strings of base units: digits only, no sign, exponent, hex, spaces or leading zeros, at most 2^256-1' },
  InvalidUint64: { status: 400, message: 'the value must be a decimal string between 0 and 2^64-1' },
  AmountOverflow: { status: 422, message: 'the result exceeds 2^256-1; use a smaller amount' },
  AmountUnderflow: { status: 422, message: 'the result would be negative; use a smaller amount' },
  InvalidHex: { status: 400, message: 'bytes are 0x followed by an even number of lowercase or uppercase hex digits' },
  InvalidHash: { status: 400, message: 'hashes are 0x followed by 64 hex digits' },
  InvalidAddress: { status: 400, message: 'addresses are 0x followed by 40 hex digits (any case; mixed case must be a valid EIP-55 checksum)' },
  InvalidCallData: { status: 400, message: 'the call data does not decode as a method of the gas contract ABI; check the selector and argument encoding' },
  UnknownMethod: { status: 400, message: 'the 4-byte selector names no method of the gas contract' },
  InvalidReceiptEncoding: { status: 400, message: 'a settlement receipt must ABI-encode the ten GasReceipt fields followed by the 65-byte receipt signature and the 65-byte invocation signature' },
  InvalidState: { status: 400, message: 'state bytes are entries sorted by key, each u32be(keyLen) ‖ key ‖ u32be(valueLen) ‖ value, with unique keys of at most 32 bytes and nothing trailing' },
  InvalidField: { status: 400, message: 'the JSON object has a missing, unknown or mistyped field; see details.path' },
  // ── signatures ────────────────────────────────────────────────────────────────────────
  InvalidSignature: { status: 401, message: 'the signature must be 65 bytes r‖s‖v with v = 27 or 28 that recovers to a public key' },
  HighS: { status: 401, message: 'the signature has a high s value; normalise it to low s (EIP-2) and sign again' },
  InvalidPrivateKey: { status: 400, message: 'a private key is 32 bytes encoding a scalar between 1 and the curve order minus 1' },
  WrongSigner: { status: 401, message: 'the signature does not recover to the account that claims to have sent it' },
  // ── the gas contract ──────────────────────────────────────────────────────────────────
  BadNonce: { status: 409, message: 'the call nonce must equal the account next nonce; fetch the account and sign again' },
  InsufficientBalance: { status: 409, message: 'the account balance cannot cover the amount; fund the account or lower the amount' },
  InsufficientEscrow: { status: 409, message: 'the zApp escrow cannot cover the session hold; top it up' },
  InsufficientAvailable: { status: 409, message: 'the zApp available escrow is below the amount; held funds are never withdrawable' },
  InsufficientStake: { status: 409, message: 'the provider stake would fall below minProviderStake, or there is not that much stake to unbond' },
  ZeroAmount: { status: 400, message: 'the amount must be greater than zero' },
  ZAppExists: { status: 409, message: 'a zApp with this id already exists' },
  ZAppNotFound: { status: 404, message: 'no zApp has this id; register it first' },
  NotZAppOwner: { status: 403, message: 'only the zApp owner may do this' },
  ProviderExists: { status: 409, message: 'this account is already a provider; use UpdateOffer or AddStake' },
  ProviderNotFound: { status: 404, message: 'no provider is registered at this address' },
  NothingToWithdraw: { status: 409, message: 'nothing is ready: unbonded stake is released only after unbondingPeriodSeconds' },
  NothingToClaim: { status: 409, message: 'no earnings are claimable yet: earnings become claimable challengeWindowSeconds after settlement' },
  PriceAboveMax: { status: 409, message: 'the provider price exceeds the zApp maxPricePerMgas; pick another provider or raise the policy' },
  GasLimitOutOfRange: { status: 409, message: 'gasLimit must be at least the provider upfrontGas and at most the zApp maxGasPerSession' },
  DurationOutOfRange: { status: 409, message: 'durationSeconds must be between 1 and maxSessionDurationSeconds' },
  NotAllowedToOpen: { status: 403, message: 'only the zApp owner may open sessions, or the user itself when the zApp is open to all' },
  SessionExists: { status: 409, message: 'a session with this id already exists' },
  SessionNotFound: { status: 404, message: 'no session has this id' },
  SessionNotOpen: { status: 409, message: 'the session is not open (it is closing or closed)' },
  SessionClosed: { status: 409, message: 'the session is closed; receipts and changes are no longer accepted' },
  SessionExpired: { status: 409, message: 'the session has expired; open a new one' },
  NotSessionParty: { status: 403, message: 'only the session user or the zApp owner may do this' },
  InvalidSigner: { status: 401, message: 'the receipt is not signed by the session provider receipt signer' },
  NonMonotonic: { status: 409, message: 'the receipt cumulativeGas is below the gas already settled for the session' },
  OverLimit: { status: 409, message: 'the receipt ackedGas + callGasLimit exceeds the session gasLimit' },
  InvalidReceipt: { status: 400, message: 'the receipt breaks the status rules (seq 0, callGas above callGasLimit or cumulativeGas, callGasLimit above the chain maximum, OutOfGas below its limit, a failed call with a post-state or output, unknown status, or Aborted without an abort)' },
  BatchTooLarge: { status: 413, message: 'too many receipts in one batch; split it (at most 1,000 per batch)' },
  EmptyBatch: { status: 400, message: 'the batch holds no receipts' },
  ChallengeWindowClosed: { status: 409, message: 'the receipt can no longer be challenged: its challenge deadline has passed or the session was already slashed' },
  PreStateMismatch: { status: 409, message: 'the supplied pre-state does not hash to the receipt preStateHash' },
  InputMismatch: { status: 409, message: 'the supplied input does not hash to the receipt inputHash' },
  ModuleUnavailable: { status: 503, message: 'the zApp module bytes are not available to re-execute the call; upload the module first' },
  InvalidGenesis: { status: 400, message: 'the genesis file is invalid; see details.path and details.reason' },
  LimitExceeded: { status: 413, message: 'the input exceeds a protocol limit (bytes, entries or count)' },
  InvalidInvocation: { status: 401, message: 'the receipt invocationSignature does not recover to the session user: the contract bills only calls the user signed for' },
  ConflictingInvocation: { status: 409, message: 'the settled receipt for this seq answers another invocation the user signed; only one invocation per seq settles' },
  ProviderRetired: { status: 409, message: 'the provider has retired and accepts no new sessions; pick another provider' },
  OfferChanged: { status: 409, message: 'the provider price or upfrontGas is above the maxPricePerMgas or maxUpfrontGas the call was signed for; read the offer and sign again' },
  OpenGasPerDayExceeded: { status: 409, message: 'users have opened or extended as much gas today as the zApp openGasPerDay allows; wait for the next UTC day or ask the owner' },
  GasOverflow: { status: 422, message: 'a gas sum would exceed 2^64-1; use a smaller amount' },
  FinalizeTooEarly: { status: 409, message: 'a session can be finalized once it is closing and closesAt has passed, or closeGracePeriodSeconds after expiresAt' },
  StakeStillChallengeable: { status: 409, message: 'unbonded stake is released only once no receipt of the provider can still be challenged (challengeableUntil)' },
  AlreadyJudged: { status: 409, message: 'a challenge of this session and seq has already been judged; it is not re-executed again' },
  // ── the runner ────────────────────────────────────────────────────────────────────────
  InvalidModule: { status: 400, message: 'the WebAssembly module is malformed' },
  ForbiddenOpcode: { status: 422, message: 'the module uses an opcode outside the determinism profile (floats, SIMD, threads or post-MVP)' },
  ForbiddenImport: { status: 422, message: 'the module imports something outside the host ABI (module env: storage_read, storage_write, storage_delete, context_seed, abort)' },
  ForbiddenStart: { status: 422, message: 'the module declares a start function; run initialisation from handle instead' },
  MemoryTooLarge: { status: 422, message: 'the module memory exceeds the policy cap in pages' },
  MissingExport: { status: 422, message: 'the module must export memory, alloc(len) and handle(ptr, len)' },
  ModuleTooLarge: { status: 413, message: 'the module exceeds the size limit' },
  ForbiddenType: { status: 422, message: 'the module uses a value or block type outside the determinism profile (f32, f64, v128, references, multi-value)' },
  ForbiddenFeature: { status: 422, message: 'the module uses a WebAssembly feature outside the determinism profile (shared or 64-bit memory, several memories or tables, reserved export names, post-MVP segments or sections)' },
  ModuleLimitExceeded: { status: 413, message: 'the module exceeds a metering policy limit (functions, locals, globals, nesting, segments or table size)' },
  InvalidGasTable: { status: 400, message: 'the gas table is malformed or prices an opcode outside every determinism profile' },
  MeteringMismatch: { status: 409, message: 'the genesis pins a gas table or metering version this build does not implement (details.field); run a build that does, or fix the genesis' },
  InvocationOutOfOrder: { status: 409, message: 'the invocation seq must be the session next seq' },
  InvocationReplayed: { status: 409, message: 'this invocation seq has already run; nothing was run again' },
  NotSessionUser: { status: 401, message: 'the invocation must be signed by the session user' },
  SessionOutOfGas: { status: 409, message: 'the session has no gas left; extend it' },
  RunnerBusy: { status: 503, message: 'the runner is at capacity; retry shortly' },
  CallTimeout: { status: 504, message: 'the call did not answer in time and its worker was restarted' },
  NotThisProvider: { status: 409, message: 'the session is served by another provider; send the invocation to its runner' },
  ReceiptSignerMismatch: { status: 409, message: 'the session was opened with a receipt signer other than this runner key; its receipts would not settle' },
  ModuleHashMismatch: { status: 502, message: 'the module bytes fetched for the session do not hash to its moduleHash; nothing was run' },
  SessionStateLost: { status: 410, message: 'this runner lost the session log (its state and receipts); it will run no more calls of the session: open a new session' },
  InvocationStale: { status: 409, message: 'the invocation does not acknowledge the runner newest receipt (preStateHash and ackedGas must be its postStateHash and cumulativeGas); check details.latest, resynchronise and sign again' },
  CallGasLimitTooHigh: { status: 409, message: 'the callGasLimit is above what this runner can run and settle within the close grace period (details.maxCallGasLimit); lower it' },
  SessionLogFull: { status: 507, message: 'the runner session log has reached its size limit; open a new session' },
  NotAnAbort: { status: 400, message: 'the body must be the signed Abort(sessionId) call of this very session, from its user or its zApp owner' },
  // ── the client ────────────────────────────────────────────────────────────────────────
  ReceiptNotAcknowledged: { status: 502, message: 'the runner answered with a receipt that does not match the invocation, the output or the state the client holds (see details.field); the client will not acknowledge it: resynchronise, challenge or abort the session' },
  SessionStopped: { status: 409, message: 'the session was aborted or closed on this client; open a new session for more calls' },
  // ── the command line ──────────────────────────────────────────────────────────────────
  InvalidQsrAmount: { status: 400, message: 'QSR amounts are written in QSR with at most 8 decimals, e.g. 12.5 or 0.00000001 (one base unit): digits and one point, no sign, exponent or separators' },
  KeyNotFound: { status: 404, message: 'no key of this name or address is in the keystore; list them with `zgas keys list`, or point --keystore (ZGAS_KEYSTORE) at the right directory' },
  KeyExists: { status: 409, message: 'the keystore already holds a key of this name or address; pick another name' },
  WrongPassword: { status: 401, message: 'the password does not decrypt this key; give the password it was saved with (prompt, --password-file or ZGAS_PASSWORD)' },
  PasswordRequired: { status: 400, message: 'a password is needed and there is no terminal to ask on; give --password-file or ZGAS_PASSWORD' },
  NoLocalSession: { status: 404, message: 'no local record of this session: `zgas session open` writes one; calls continue only from the record of the session they belong to' },
  // ── the services ──────────────────────────────────────────────────────────────────────
  InvalidRequest: { status: 400, message: 'the request body does not match the schema; see the path of the field' },
  NotFound: { status: 404, message: 'nothing is stored under this key' },
  PayloadTooLarge: { status: 413, message: 'the request body exceeds the size limit' },
  UnsupportedMediaType: { status: 415, message: 'the request body has the wrong content type: JSON bodies are application/json, modules application/wasm or application/octet-stream' },
  TooManySubscribers: { status: 503, message: 'the event stream has reached its subscriber limit (in all, or for this client address); retry later' },
  Overloaded: { status: 503, message: 'the node has more work waiting than it can take now (verification queue, unapplied work or large bodies in flight); retry after Retry-After seconds' },
  HeadersTooLarge: { status: 431, message: 'the request line and headers exceed the size limit; shorten the URL or the headers' },
  RequestTimeout: { status: 408, message: 'the request was not received in full in time; send it again' },
  MalformedHttp: { status: 400, message: 'the request is not valid HTTP/1.1 (request line, headers or body framing); fix the client' },
  InvalidConfig: { status: 400, message: 'a setting has an invalid value; see details.variable and details.reason' },
  RateLimited: { status: 429, message: 'too many requests; slow down and retry' },
  IntakeFull: { status: 429, message: 'too many of your receipts await verification; retry once they are verified' },
  ModuleQuotaExceeded: { status: 429, message: 'you have uploaded as many modules as you may before a zApp registers one of them; register one (RegisterZApp) or wait until an unregistered upload expires (Retry-After)' },
  StorageFull: { status: 507, message: 'the node holds as many unregistered uploads as it may; retry after Retry-After seconds, when some have expired' },
  ModuleNotUploaded: { status: 409, message: 'no module is stored under this moduleHash; upload it with PUT /v1/modules first' },
  NotReady: { status: 503, message: 'the service is starting or has lost a dependency; retry shortly' },
  GenesisMismatch: { status: 500, message: 'the store was created from another genesis; start the node with that genesis or on an empty store' },
  StoreCorrupt: { status: 500, message: 'the stored state does not match the momentum chain; run replay to find the first mismatch' },
  Internal: { status: 500, message: 'an internal error occurred; it has been logged' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof errors;

export class ZgasError extends Error {
  override readonly name = 'ZgasError';
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly details: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(errors[code].message, options);
    this.status = errors[code].status;
  }
}

export function isZgasError(value: unknown, code?: ErrorCode): value is ZgasError {
  return value instanceof ZgasError && (code === undefined || value.code === code);
}

/** Assertion of an internal invariant: a failure is a bug, never a caller's mistake. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantViolation(message);
}

export class InvariantViolation extends Error {
  override readonly name = 'InvariantViolation';
}
