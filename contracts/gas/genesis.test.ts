import { describe, expect, it } from 'vitest';
import { wholeQsr } from '../units.ts';
import type { Gas, Qsr } from '../units.ts';
import { encodeMethod, MAX_CALL_DATA_BYTES } from '../abi/methods.ts';
import { ADDR, FakeRunner, TEST_CONTRACT, testGenesis, World } from '../../test/support/contract-kit.ts';
import { DEFAULT_GAS_TABLE_HASH, DEFAULT_PARAMS, genesisState, genesisSupply, genesisToJson, MIN_CHALLENGE_BOND, parseGenesis } from './genesis.ts';
import { checkInvariants } from './invariants.ts';
import { CHALLENGE_OVERHEAD_BYTES } from './limits.ts';
import { cloneState, stateDigest, stateFromJson, stateToJson, totalSupply } from './state.ts';

const base = { chainId: '73405', contract: TEST_CONTRACT, timestamp: '1700000000', accounts: [{ address: ADDR.owner.toLowerCase(), balance: '100' }] };

describe('genesis', () => {
  it('parses a minimal file with documented defaults and EIP-55 addresses', () => {
    const g = parseGenesis(base);
    expect(g.params).toEqual(DEFAULT_PARAMS);
    expect(g.gasTable).toBe(DEFAULT_GAS_TABLE_HASH);
    expect(g.accounts[0]!.address).toBe(ADDR.owner);
    expect(g.contract.toLowerCase()).toBe('0x00000000000000000000000000000000007a6761');
    expect(g.contract).not.toBe(g.contract.toLowerCase()); // EIP-55
    expect(DEFAULT_PARAMS.unbondingPeriodSeconds).toBeGreaterThan(DEFAULT_PARAMS.challengeWindowSeconds);
    expect(parseGenesis(genesisToJson(g))).toEqual(g);
    expect(g.meteringVersion).toBeUndefined();
  });

  it('keeps a metering version the file names, and writes it back', () => {
    const g = parseGenesis({ ...base, meteringVersion: '7' });
    expect(g.meteringVersion).toBe(7);
    expect(genesisToJson(g)['meteringVersion']).toBe('7');
    expect(parseGenesis(genesisToJson(g))).toEqual(g);
  });

  it('accepts the edges of every bound', () => {
    const g = parseGenesis({ ...base, params: {
      slashFractionBps: '10000', challengerRewardBps: '5000', challengeBond: MIN_CHALLENGE_BOND.toString(),
      challengeWindowSeconds: '604800', unbondingPeriodSeconds: '604801',
      maxStateBytes: String(MAX_CALL_DATA_BYTES - CHALLENGE_OVERHEAD_BYTES - 1), maxInputBytes: '1',
    } });
    expect(g.params.challengerRewardBps).toBe(5_000n);
    expect(parseGenesis({ ...base, params: { slashFractionBps: '1', challengerRewardBps: '0' } }).params.slashFractionBps).toBe(1n);
    // the defaults leave room for a Challenge
    expect(DEFAULT_PARAMS.maxStateBytes + DEFAULT_PARAMS.maxInputBytes + BigInt(CHALLENGE_OVERHEAD_BYTES)).toBeLessThanOrEqual(BigInt(MAX_CALL_DATA_BYTES));
    expect(DEFAULT_PARAMS.challengeBond).toBeGreaterThanOrEqual(MIN_CHALLENGE_BOND);
  });

  it('a Challenge at the largest state and input a genesis may allow fits the call data', () => {
    const maxStateBytes = MAX_CALL_DATA_BYTES - CHALLENGE_OVERHEAD_BYTES - 1;
    const g = parseGenesis({ ...base, params: { maxStateBytes: String(maxStateBytes), maxInputBytes: '1' } });
    const w = new World(testGenesis({ params: { maxStateBytes: String(maxStateBytes), maxInputBytes: '1' } }));
    const runner = new FakeRunner(w, w.open(w.setup()));
    const receipt = runner.run();
    const data = encodeMethod({ name: 'Challenge', receipt, input: '0x00', preState: `0x${'00'.repeat(Number(g.params.maxStateBytes))}` });
    expect((data.length - 2) / 2).toBeLessThanOrEqual(MAX_CALL_DATA_BYTES);
  });

  it('takes partial params', () => {
    const g = parseGenesis({ ...base, params: { challengeWindowSeconds: '30', abortGraceGas: '5' } });
    expect(g.params).toEqual({ ...DEFAULT_PARAMS, challengeWindowSeconds: 30n, abortGraceGas: 5n });
  });

  it.each([
    ['not an object', 5, ''],
    ['unknown field', { ...base, extra: 1 }, 'extra'],
    ['number instead of string', { ...base, chainId: 73405 }, 'chainId'],
    ['exponent', { ...base, timestamp: '1e9' }, 'timestamp'],
    ['bad address', { ...base, contract: '0x1234' }, 'contract'],
    ['bad checksum', { ...base, accounts: [{ address: ADDR.owner.replace(/[a-f]/, (c) => c.toUpperCase()), balance: '1' }] }, 'accounts[0].address'],
    ['duplicate account', { ...base, accounts: [base.accounts[0], { address: ADDR.owner, balance: '1' }] }, 'accounts[1].address'],
    ['negative balance', { ...base, accounts: [{ address: ADDR.owner, balance: '-1' }] }, 'accounts[0].balance'],
    ['unknown param', { ...base, params: { fast: '1' } }, 'params.fast'],
    ['unbonding not above the window', { ...base, params: { challengeWindowSeconds: '600', unbondingPeriodSeconds: '600' } }, 'params.unbondingPeriodSeconds'],
    ['slash above 100%', { ...base, params: { slashFractionBps: '10001' } }, 'params.slashFractionBps'],
    ['no slash', { ...base, params: { slashFractionBps: '0' } }, 'params.slashFractionBps'],
    ['challenger reward above half', { ...base, params: { challengerRewardBps: '5001' } }, 'params.challengerRewardBps'],
    ['bond below the largest re-execution', { ...base, params: { challengeBond: (MIN_CHALLENGE_BOND - 1n).toString() } }, 'params.challengeBond'],
    ['window above 7 days', { ...base, params: { challengeWindowSeconds: '604801', unbondingPeriodSeconds: '704800' } }, 'params.challengeWindowSeconds'],
    ['a challenge that would not fit the call data', { ...base, params: { maxStateBytes: String(MAX_CALL_DATA_BYTES - CHALLENGE_OVERHEAD_BYTES), maxInputBytes: '1' } }, 'params.maxStateBytes'],
    ['an unbonding period past 100 years', { ...base, params: { unbondingPeriodSeconds: '3153600001' } }, 'params.unbondingPeriodSeconds'],
    ['a session duration past 100 years', { ...base, params: { maxSessionDurationSeconds: '18446744073709551615' } }, 'params.maxSessionDurationSeconds'],
    ['the v1 abortGracePeriodSeconds', { ...base, params: { abortGracePeriodSeconds: '60' } }, 'params.abortGracePeriodSeconds'],
    ['bad gas table', { ...base, gasTable: '0x12' }, 'gasTable'],
    ['metering version 0', { ...base, meteringVersion: '0' }, 'meteringVersion'],
    ['metering version as a number', { ...base, meteringVersion: 1 }, 'meteringVersion'],
    ['metering version too large', { ...base, meteringVersion: '65536' }, 'meteringVersion'],
  ])('rejects %s', (_name, json, path) => {
    expect(() => parseGenesis(json)).toThrowError(expect.objectContaining({ code: 'InvalidGenesis', details: expect.objectContaining({ path }) }));
  });

  it('builds the state with the whole supply in balances', () => {
    const g = testGenesis();
    const s = genesisState(g);
    expect(totalSupply(s)).toBe(genesisSupply(g));
    expect(s.supply).toBe(genesisSupply(g));
    checkInvariants(s);
  });
});

describe('state JSON', () => {
  it('round-trips exactly, with every kind of entity, and keeps the digest', () => {
    const w = new World();
    const zAppId = w.setup({ price: 1_000_000n });
    w.ok('owner', { name: 'SetAutoTopUp', zAppId, minAvailable: 5n as Qsr, refill: 7n as Qsr });
    const id = w.open(zAppId);
    const runner = new FakeRunner(w, id);
    w.settle([runner.run(), runner.run()]);
    w.ok('provider', { name: 'Unbond', amount: wholeQsr(1) });
    w.ok('user', { name: 'Abort', sessionId: id });
    w.ok('owner', { name: 'RegisterZApp', moduleHash: zAppId, maxPricePerMgas: 1n as Qsr, maxGasPerSession: 9n as Gas, openToAll: true, openGasPerDay: 9n as Gas });
    const json = stateToJson(w.state);
    const text = JSON.stringify(json);
    const back = stateFromJson(JSON.parse(text));
    expect(JSON.stringify(stateToJson(back))).toBe(text);
    expect(stateDigest(back)).toBe(stateDigest(w.state));
    expect(back.totals).toEqual(w.state.totals);
    checkInvariants(back);
    // decimal strings everywhere
    expect(json.sessions[0]!.billedGas).toMatch(/^[0-9]+$/);
    expect(json.providers[0]!.address).toBe(ADDR.provider);
    // a clone is independent
    const copy = cloneState(w.state);
    copy.accounts.get(ADDR.owner)!.balance = 0n as Qsr;
    expect(w.state.accounts.get(ADDR.owner)!.balance).not.toBe(0n);
  });

  it('refuses a corrupt store', () => {
    const w = new World();
    const json = JSON.parse(JSON.stringify(stateToJson(w.state))) as { accounts: Array<{ balance: string }> };
    json.accounts[0]!.balance = '1';
    expect(() => stateFromJson(json)).toThrowError(expect.objectContaining({ code: 'InvalidField', details: expect.objectContaining({ path: 'supply' }) }));
    json.accounts[0]!.balance = '1.5';
    expect(() => stateFromJson(json)).toThrowError(expect.objectContaining({ code: 'InvalidField', details: expect.objectContaining({ path: 'accounts[0].balance' }) }));
  });
});
