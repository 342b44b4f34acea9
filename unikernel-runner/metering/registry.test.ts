import { describe, expect, it } from 'vitest';
import { DEFAULT_GAS_TABLE_HASH } from '../../contracts/gas/genesis.ts';
import { findGasTable, gasTableByName, METERING_VERSION, meteringFor, SHIPPED_GAS_TABLES, shippedGasTableHashes } from './registry.ts';
import { DEFAULT_GAS_TABLE, EXTENDED_GAS_TABLE, gasTableHash } from './table.ts';

describe('gas table registry', () => {
  it('names the default table by its real hash, the one a genesis without gasTable pins', () => {
    // Changing a figure of the default table changes its hash: contracts/gas/genesis.ts must follow.
    expect(gasTableHash(gasTableByName(DEFAULT_GAS_TABLE))).toBe(DEFAULT_GAS_TABLE_HASH);
    expect(SHIPPED_GAS_TABLES[0]).toBe(DEFAULT_GAS_TABLE);
  });

  it('maps every shipped table by hash, and nothing else', () => {
    const hashes = shippedGasTableHashes();
    expect([...hashes.values()].sort()).toEqual([DEFAULT_GAS_TABLE, EXTENDED_GAS_TABLE].sort());
    const extended = gasTableByName(EXTENDED_GAS_TABLE);
    expect(findGasTable(gasTableHash(extended))).toBe(extended);
    expect(findGasTable(gasTableHash(extended).toUpperCase().replace('0X', '0x') as never)).toBe(extended);
    expect(findGasTable(`0x${'00'.repeat(32)}`)).toBeUndefined();
  });

  it('gives the table and version a genesis pins, absent version meaning this build', () => {
    expect(meteringFor({ gasTable: DEFAULT_GAS_TABLE_HASH })).toEqual({ table: gasTableByName(), tableName: DEFAULT_GAS_TABLE, meteringVersion: METERING_VERSION });
    expect(meteringFor({ gasTable: DEFAULT_GAS_TABLE_HASH, meteringVersion: METERING_VERSION }).meteringVersion).toBe(METERING_VERSION);
  });

  it.each([
    ['an unknown table hash', { gasTable: `0x${'00'.repeat(32)}` as const }, 'gasTable'],
    ['another metering version', { gasTable: DEFAULT_GAS_TABLE_HASH, meteringVersion: METERING_VERSION + 1 }, 'meteringVersion'],
  ])('refuses %s with MeteringMismatch naming the field', (_name, pin, field) => {
    expect(() => meteringFor(pin)).toThrowError(expect.objectContaining({ code: 'MeteringMismatch', details: expect.objectContaining({ field }) }));
  });
});
