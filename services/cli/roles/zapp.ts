/** `zgas zapp deploy|fund|auto-topup|policy|withdraw|status`: the zApp owner's commands. */
import { readFile } from 'node:fs/promises';
import { ZgasError } from '../../../contracts/errors.ts';
import { parseHash } from '../../../contracts/hex.ts';
import type { Hash } from '../../../contracts/types.ts';
import { cost, parseGas, parseQsr } from '../../../contracts/units.ts';
import type { Gas, Qsr } from '../../../contracts/units.ts';
import type { MomentumView, SessionView, SettlementClient, ZAppView } from '../../client/index.ts';
import { durationText, groupDigits, parseDurationSeconds, parseGasAmount, parseQsrAmount, qsrText, table } from '../format.ts';
import { withProgress } from '../progress.ts';
import type { Cli } from './context.ts';

/** The most momentums `zapp status` reads back to measure the burn rate. */
export const MAX_MOMENTUMS_SCANNED = 500;

interface PolicyOptions {
  maxPrice?: string;
  maxGas?: string;
  openToAll?: boolean;
  ownerOnly?: boolean;
  openGasPerDay?: string;
}

function policyText(z: ZAppView): Array<readonly [string, string]> {
  return [
    ['max price', `${qsrText(z.policy.maxPricePerMgas)} per Mgas`],
    ['max gas/session', groupDigits(z.policy.maxGasPerSession)],
    ['open to all', z.policy.openToAll ? `yes, ${groupDigits(z.policy.openGasPerDay)} gas per UTC day` : 'no (owner opens sessions)'],
    ['auto top-up', BigInt(z.autoTopUp.refill) === 0n ? 'off' : `${qsrText(z.autoTopUp.refill)} when available < ${qsrText(z.autoTopUp.minAvailable)}`],
  ];
}

export async function deploy(cli: Cli, [file]: string[], opts: Record<string, unknown>): Promise<void> {
  const o = opts as PolicyOptions & { fund?: string };
  const maxPricePerMgas = parseQsrAmount(o.maxPrice ?? '', 'max-price');
  const maxGasPerSession = parseGasAmount(o.maxGas ?? '', 'max-gas');
  const openGasPerDay = o.openGasPerDay === undefined ? (0n as Gas) : parseGasAmount(o.openGasPerDay, 'open-gas-per-day');
  const fund = o.fund === undefined ? undefined : parseQsrAmount(o.fund, 'fund');
  const bytes = new Uint8Array(await readFile(file ?? ''));
  const api = await cli.api();
  const signer = await cli.signer();
  const moduleHash = await withProgress(`uploading ${file} (${groupDigits(BigInt(bytes.length))} bytes)`, () => api.uploadModule(bytes), { quiet: cli.json });
  const applied = await cli.execute({ name: 'RegisterZApp', moduleHash, maxPricePerMgas, maxGasPerSession, openToAll: o.openToAll === true, openGasPerDay }, signer);
  const zAppId = applied.created;
  if (zAppId === null) throw new ZgasError('Internal', { reason: 'RegisterZApp applied without a zApp id', callHash: applied.callHash });
  if (fund !== undefined && fund > 0n) await cli.execute({ name: 'TopUp', zAppId, amount: fund }, signer);
  const zApp = await api.zApp(zAppId);
  cli.emit({ zAppId, moduleHash, momentumHeight: applied.momentumHeight ?? null, zApp }, () =>
    table([['zApp', zAppId], ['module', moduleHash], ['owner', zApp.owner], ['available', qsrText(zApp.available)], ...policyText(zApp)]),
  );
}

export async function fund(cli: Cli, [id, amountText]: string[]): Promise<void> {
  const zAppId = parseHash(id);
  const amount = parseQsrAmount(amountText ?? '');
  const applied = await cli.execute({ name: 'TopUp', zAppId, amount });
  const zApp = await (await cli.api()).zApp(zAppId);
  cli.emit({ zAppId, amount: amount.toString(), momentumHeight: applied.momentumHeight ?? null, available: zApp.available, held: zApp.held }, `funded ${qsrText(amount)}: available ${qsrText(zApp.available)}, held ${qsrText(zApp.held)}`);
}

export async function autoTopUp(cli: Cli, [id]: string[], opts: Record<string, unknown>): Promise<void> {
  const zAppId = parseHash(id);
  const minAvailable = parseQsrAmount(String(opts['minAvailable']), 'min-available');
  const refill = parseQsrAmount(String(opts['refill']), 'refill');
  await cli.execute({ name: 'SetAutoTopUp', zAppId, minAvailable, refill });
  const zApp = await (await cli.api()).zApp(zAppId);
  cli.emit({ zAppId, autoTopUp: zApp.autoTopUp }, refill === 0n ? 'auto top-up off' : `auto top-up: ${qsrText(refill)} from your balance whenever available < ${qsrText(minAvailable)}`);
}

export async function policy(cli: Cli, [id]: string[], opts: Record<string, unknown>): Promise<void> {
  const o = opts as PolicyOptions;
  const zAppId = parseHash(id);
  const api = await cli.api();
  const current = await api.zApp(zAppId);
  const openToAll = o.openToAll === true ? true : o.ownerOnly === true ? false : current.policy.openToAll;
  await cli.execute({
    name: 'SetPolicy', zAppId,
    maxPricePerMgas: o.maxPrice === undefined ? parseQsr(current.policy.maxPricePerMgas) : parseQsrAmount(o.maxPrice, 'max-price'),
    maxGasPerSession: o.maxGas === undefined ? parseGas(current.policy.maxGasPerSession) : parseGasAmount(o.maxGas, 'max-gas'),
    openToAll,
    openGasPerDay: o.openGasPerDay === undefined ? parseGas(current.policy.openGasPerDay) : parseGasAmount(o.openGasPerDay, 'open-gas-per-day'),
  });
  const zApp = await api.zApp(zAppId);
  cli.emit({ zAppId, policy: zApp.policy }, () => table(policyText(zApp).slice(0, 3)));
}

export async function withdraw(cli: Cli, [id, amountText]: string[]): Promise<void> {
  const zAppId = parseHash(id);
  const amount = parseQsrAmount(amountText ?? '');
  await cli.execute({ name: 'WithdrawEscrow', zAppId, amount });
  const zApp = await (await cli.api()).zApp(zAppId);
  cli.emit({ zAppId, amount: amount.toString(), available: zApp.available, held: zApp.held }, `withdrew ${qsrText(amount)}: available ${qsrText(zApp.available)}, held ${qsrText(zApp.held)}`);
}

/** What the zApp paid over the recent chain time: settled charges and upfront gas of its sessions. */
export interface BurnRate {
  /** QSR base units spent in the window. */
  spent: bigint;
  /** The chain seconds the window covers (the scan stops at MAX_MOMENTUMS_SCANNED). */
  windowSeconds: bigint;
  momentums: number;
  /** Base units per hour; 0 with no spending. */
  perHour: bigint;
}

export async function burnRate(api: SettlementClient, zAppId: Hash, windowSeconds: bigint): Promise<BurnRate> {
  const latest = await api.getMomentum('latest');
  if (latest === null) return { spent: 0n, windowSeconds: 0n, momentums: 0, perHour: 0n };
  const end = BigInt(latest.timestamp);
  const sessions = new Map<string, SessionView | null>();
  const sessionOf = async (id: string): Promise<SessionView | null> => {
    if (!sessions.has(id)) sessions.set(id, await api.getSession(id));
    return sessions.get(id) ?? null;
  };
  let spent = 0n;
  let start = end;
  let scanned = 0;
  let momentum: MomentumView | null = latest;
  while (momentum !== null && scanned < MAX_MOMENTUMS_SCANNED && BigInt(momentum.height) > 0n && end - BigInt(momentum.timestamp) <= windowSeconds) {
    start = BigInt(momentum.timestamp);
    scanned++;
    for (const result of momentum.results as Array<{ ok?: boolean; events?: Array<Record<string, unknown>>; outcomes?: Array<Record<string, unknown>> }>) {
      if (result.ok !== true) continue;
      for (const o of result.outcomes ?? []) {
        if (o['outcome'] !== 'Settled' || typeof o['sessionId'] !== 'string' || typeof o['charge'] !== 'string') continue;
        if ((await sessionOf(o['sessionId']))?.zAppId === zAppId) spent += BigInt(o['charge']);
      }
      for (const e of result.events ?? []) {
        if (e['type'] !== 'SessionOpened' || e['zAppId'] !== zAppId || typeof e['sessionId'] !== 'string') continue;
        const session = await sessionOf(e['sessionId']);
        if (session !== null) spent += cost(parseGas(session.upfrontGas), parseQsr(session.price));
      }
    }
    momentum = await api.getMomentum(BigInt(momentum.height) - 1n);
  }
  // Measured over the window asked for, or over what was scanned when the scan stopped early.
  const covered = scanned >= MAX_MOMENTUMS_SCANNED ? end - start : windowSeconds;
  const perHour = covered > 0n ? (spent * 3600n) / covered : 0n;
  return { spent, windowSeconds: covered, momentums: scanned, perHour };
}

export async function status(cli: Cli, [id]: string[], opts: Record<string, unknown>): Promise<void> {
  const zAppId = parseHash(id);
  const windowSeconds = parseDurationSeconds(String(opts['window'] ?? '1h'));
  const api = await cli.api();
  const zApp = await api.zApp(zAppId);
  const rate = await burnRate(api, zAppId, windowSeconds);
  const escrow = (BigInt(zApp.available) + BigInt(zApp.held)) as Qsr;
  const runwaySeconds = rate.perHour > 0n ? (escrow * 3600n) / rate.perHour : null;
  cli.emit(
    { ...zApp, burnRate: { perHour: rate.perHour.toString(), spent: rate.spent.toString(), windowSeconds: rate.windowSeconds.toString(), momentums: rate.momentums }, runwaySeconds: runwaySeconds?.toString() ?? null },
    () => table([
      ['zApp', zApp.id], ['owner', zApp.owner], ['module', zApp.moduleHash],
      ['available', qsrText(zApp.available)], ['held', qsrText(zApp.held)],
      ...policyText(zApp),
      ['burn rate', `${qsrText(rate.perHour)} per hour (${qsrText(rate.spent)} over the last ${durationText(rate.windowSeconds)} of chain time)`],
      ['runway', runwaySeconds === null ? 'no spending in the window' : `${durationText(runwaySeconds)} at this rate (available + held)`],
    ]),
  );
}
