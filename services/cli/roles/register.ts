/**
 * The role commands of `zgas` — keys, zapp, session, provider, challenge, status — declared here
 * with their flags and help, and each action's module loaded only when the action runs, so
 * `zgas --help` and `zgas <command> --help` print without loading ethers, the client or the runtime.
 */
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import type { Cli } from './context.ts';

type Env = Record<string, string | undefined>;
type Action = (cli: Cli, args: string[], opts: Record<string, unknown>) => Promise<void>;

const modules = {
  keys: () => import('./keys.ts'),
  zapp: () => import('./zapp.ts'),
  session: () => import('./session.ts'),
  provider: () => import('./provider.ts'),
  challenge: () => import('./challenge.ts'),
  status: () => import('./status.ts'),
  account: () => import('./account.ts'),
} as const;
type ModuleName = keyof typeof modules;

/** The action `name` of module `mod`, loaded when it runs. */
function lazy<M extends ModuleName>(env: Env, mod: M, name: keyof Awaited<ReturnType<(typeof modules)[M]>>) {
  return async (...params: unknown[]): Promise<void> => {
    const command = params[params.length - 1] as Command;
    const opts = command.optsWithGlobals<Record<string, unknown>>();
    const [{ Cli, asCliError, reportError }, loaded] = await Promise.all([import('./context.ts'), modules[mod]()]);
    const action = (loaded as unknown as Record<string, Action>)[name as string];
    if (action === undefined) throw new Error(`no action ${String(name)} in ${mod}`);
    try {
      await action(new Cli(opts, env), command.args, opts);
    } catch (error) {
      // A typed failure is one line on stderr (and { code, message, details } on stdout with --json); anything else is a bug and propagates.
      if (!reportError(asCliError(error), opts['json'] === true)) throw error;
      process.exitCode = 1;
    }
  };
}

const json = (cmd: Command): Command => cmd.option('--json', 'print the answer as JSON (amounts as decimal strings of base units, as the API)');

/** Where the settlement API is and which chain it signs for. */
function connected(cmd: Command): Command {
  return json(cmd)
    .option('--api-url <url>', 'the settlement API (default $ZGAS_API_URL or http://127.0.0.1:8645)')
    .option('--chain-id <n>', 'signing domain chainId (default: the node\'s, else the built-in genesis)')
    .option('--contract <address>', 'signing domain contract address (default: the node\'s, else the built-in genesis)')
    .option('--genesis <file>', 'take chainId and contract from this genesis file (default $ZGAS_GENESIS)');
}

/** A command that signs with a key of the keystore. */
function signing(cmd: Command): Command {
  return connected(cmd)
    .requiredOption('--key <name|address>', 'the key that signs (see `zgas keys list`)')
    .option('--keystore <dir>', 'the keystore directory (default $ZGAS_KEYSTORE or ~/.zgas/keys)')
    .option('--password-file <file>', 'read the key password from this file (or $ZGAS_PASSWORD; else a prompt)');
}

function keystoreOptions(cmd: Command): Command {
  return json(cmd)
    .option('--keystore <dir>', 'the keystore directory (default $ZGAS_KEYSTORE or ~/.zgas/keys)')
    .option('--password-file <file>', 'read the password from this file (or $ZGAS_PASSWORD; else a prompt)');
}

/** Commands that write key files: the scrypt cost can be lowered for throwaway keys. */
const scryptOption = (cmd: Command): Command =>
  cmd.option('--scrypt-n <N>', 'scrypt cost N of the key file (default 131072, as ethers and geth; lower only for throwaway test keys)');

const runner = (cmd: Command): Command => cmd.option('--runner-url <url>', "the provider's runner (default $ZGAS_RUNNER_URL or http://127.0.0.1:8646)");

const policyFlags = (cmd: Command, required: boolean): Command => {
  const add = (flags: string, text: string): Command => (required ? cmd.requiredOption(flags, text) : cmd.option(flags, text));
  add('--max-price <qsr>', 'the highest provider price per Mgas sessions may have, in QSR (e.g. 0.001)');
  add('--max-gas <gas>', 'the most gas one session may have');
  cmd.addOption(new Option('--open-to-all', 'any user may open a session for itself (the zApp pays)'));
  cmd.addOption(new Option('--owner-only', 'only the owner opens sessions').conflicts('openToAll'));
  cmd.option('--open-gas-per-day <gas>', 'gas all users together may open by themselves per UTC day');
  return cmd;
};

function positiveCount(value: string): string {
  if (!/^[0-9]{1,9}$/.test(value)) throw new InvalidArgumentError('a whole number');
  return value;
}

export function registerRoleCommands(program: Command, env: Env): void {
  // ── keys ─────────────────────────────────────────────────────────────────────────────
  const keys = program.command('keys').description('the encrypted keystore: keys that sign calls and invocations');
  scryptOption(keystoreOptions(keys.command('new <name>').description('create a random key, encrypted with a password'))).action(lazy(env, 'keys', 'newKey'));
  scryptOption(keystoreOptions(keys.command('import <name>').description('import a private key (from --private-key-file or stdin) or an Ethereum JSON wallet (--json-wallet)')))
    .option('--private-key-file <file>', 'a file holding the 0x private key (else it is read from stdin)')
    .option('--json-wallet <file>', 'an Ethereum JSON wallet (keystore v3); the password must decrypt it')
    .action(lazy(env, 'keys', 'importKey'));
  keystoreOptions(keys.command('list').description('the keys and their addresses (nothing is decrypted)')).action(lazy(env, 'keys', 'listKeys'));

  // ── zApp owner ───────────────────────────────────────────────────────────────────────
  const zapp = program.command('zapp').description('zApp owner: deploy a module, fund its escrow, set its policy');
  policyFlags(signing(zapp.command('deploy <file.wasm>').description('upload the module and register the zApp (RegisterZApp) with its policy')), true)
    .option('--fund <qsr>', 'top the escrow up by this much once registered')
    .action(lazy(env, 'zapp', 'deploy'));
  signing(zapp.command('fund <zAppId> <qsr>').description('move QSR from your balance to the zApp escrow (TopUp; anyone may)')).action(lazy(env, 'zapp', 'fund'));
  signing(zapp.command('auto-topup <zAppId>').description('refill the escrow from your balance when available falls below a floor (SetAutoTopUp)'))
    .requiredOption('--min-available <qsr>', 'refill when available is below this')
    .requiredOption('--refill <qsr>', 'how much one refill moves (0 turns auto top-up off)')
    .action(lazy(env, 'zapp', 'autoTopUp'));
  policyFlags(signing(zapp.command('policy <zAppId>').description('change the spending policy (SetPolicy); flags not given keep their value')), false).action(lazy(env, 'zapp', 'policy'));
  signing(zapp.command('withdraw <zAppId> <qsr>').description('move QSR from the escrow\'s available part back to your balance (WithdrawEscrow)')).action(lazy(env, 'zapp', 'withdraw'));
  connected(zapp.command('status <zAppId>').description('escrow (available, held), policy, auto top-up, burn rate and runway'))
    .option('--window <duration>', 'the recent chain time the burn rate is measured over (e.g. 1h, 30m)', '1h')
    .action(lazy(env, 'zapp', 'status'));

  // ── user ─────────────────────────────────────────────────────────────────────────────
  const session = program.command('session').description("user: open a session, call the zApp on the provider's runner, abort or close it");
  runner(signing(session.command('open <zAppId>').description('open a session (OpenSession): the zApp pays, the user pays nothing'))
    .requiredOption('--provider <address>', 'the provider whose runner serves the session')
    .requiredOption('--gas <gas>', 'the gas limit of the session')
    .option('--duration <time>', 'how long the session may last (e.g. 3600, 30m, 2h)', '1h')
    .option('--user <address>', 'open it for this user (the zApp owner may; default: the key itself)')
    .option('--max-price <qsr>', "sign for at most this price per Mgas (default: the provider's current price)")
    .option('--max-upfront-gas <gas>', "sign for at most this upfront gas (default: the provider's current upfrontGas)"))
    .action(lazy(env, 'session', 'open'));
  runner(signing(session.command('call <sessionId> [input]').description('run one call on the runner; the receipt is checked before the next call acknowledges it'))
    .option('--input-hex <hex>', 'the input as 0x hex bytes (instead of text)')
    .option('--input-file <file>', 'the input bytes from a file')
    .option('--call-gas <gas>', 'the most gas this call may use (default: 100,000,000 or what the session has left)')
    .option('--output <format>', 'print the output as text or hex', 'text')
    .option('--wait-settled', 'wait until the receipt has settled on the ledger'))
    .action(lazy(env, 'session', 'call'));
  runner(signing(session.command('abort <sessionId>').description('stop the session now (Abort, to the API and the runner): the running call stops, no new call runs')))
    .action(lazy(env, 'session', 'abort'));
  signing(session.command('close <sessionId>').description('close the session (CloseSession): no new call; finished calls still settle')).action(lazy(env, 'session', 'close'));
  signing(session.command('finalize <sessionId>').description('return the rest of the hold to the zApp once the close grace has passed (FinalizeSession; anyone may)'))
    .option('--wait', 'wait until the session can be finalized, then send it')
    .action(lazy(env, 'session', 'finalize'));
  connected(session.command('status <sessionId>').description('the session on the ledger and in the local record'))
    .action(lazy(env, 'session', 'status'));

  // ── provider ─────────────────────────────────────────────────────────────────────────
  const provider = program.command('provider').description('provider: stake, publish an offer, claim earnings');
  signing(provider.command('register').description('become a provider (RegisterProvider): receipt signer, price, upfront gas, stake'))
    .requiredOption('--receipt-signer <address>', "the runner's receipt-signing address (the hot key, not this account)")
    .requiredOption('--price <qsr>', 'price per Mgas (one million gas), in QSR')
    .option('--upfront-gas <gas>', 'gas billed when the zApp owner opens a session', '0')
    .requiredOption('--stake <qsr>', 'stake to lock (at least minProviderStake)')
    .action(lazy(env, 'provider', 'register'));
  signing(provider.command('offer').description('publish a new offer (UpdateOffer); open sessions keep theirs; accepts sessions again after retire'))
    .option('--receipt-signer <address>', 'new receipt signer (default: unchanged)')
    .option('--price <qsr>', 'new price per Mgas in QSR (default: unchanged)')
    .option('--upfront-gas <gas>', 'new upfront gas (default: unchanged)')
    .action(lazy(env, 'provider', 'offer'));
  signing(provider.command('stake <qsr>').description('add stake (AddStake)')).action(lazy(env, 'provider', 'stake'));
  signing(provider.command('unbond <qsr>').description('start unbonding stake (Unbond); it stays slashable until released')).action(lazy(env, 'provider', 'unbond'));
  signing(provider.command('withdraw').description('withdraw released unbonded stake (WithdrawUnbonded)'))
    .option('--wait', 'wait until the unbonded stake can be released, then send it')
    .action(lazy(env, 'provider', 'withdraw'));
  signing(provider.command('claim').description('claim earnings whose challenge window has passed (ClaimEarnings)'))
    .option('--wait', 'wait until the pending earnings become claimable, then claim them all')
    .action(lazy(env, 'provider', 'claim'));
  signing(provider.command('retire').description('accept no new sessions (Retire); open sessions run on')).action(lazy(env, 'provider', 'retire'));
  connected(provider.command('status [address]').description('stake, unbonding, pending and claimable earnings, and when the rest becomes claimable'))
    .option('--key <name|address>', 'the provider key (instead of an address)')
    .option('--keystore <dir>', 'the keystore directory')
    .action(lazy(env, 'provider', 'status'));

  // ── anyone ───────────────────────────────────────────────────────────────────────────
  signing(program.command('challenge').description('challenge a receipt by re-execution (Challenge): a disproved receipt slashes its provider'))
    .option('--session <sessionId>', 'take receipt, input and pre-state from the local record of this session…')
    .option('--seq <n>', '…for this call (default: the last one)', positiveCount)
    .option('--receipt <file>', 'or: a settlement receipt JSON file')
    .option('--input-hex <hex>', "the call's input as 0x hex (with --receipt)")
    .option('--input-file <file>', "the call's input bytes (with --receipt)")
    .option('--pre-state <file>', "the call's pre-state: a JSON file [{ key, value }] or the state encoding as 0x hex (with --receipt)")
    .option('--force', 'send it even when re-executing here upholds the receipt (the bond goes to the provider)')
    .action(lazy(env, 'challenge', 'challenge'));
  signing(program.command('transfer <to> <qsr>').description('send QSR from the key\'s balance to another account (Transfer)')).action(lazy(env, 'account', 'transfer'));
  connected(program.command('status <address>').description('an account: balance and nonce, its provider record, the zApps it owns'))
    .action(lazy(env, 'status', 'status'));
}
