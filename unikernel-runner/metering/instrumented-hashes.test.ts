// The instrumenter's output is part of the protocol (genesis pins the metering version): these
// instrumentedHash values of the bundled zApps, the test modules, the C corpus and the modules
// shipped in hash-wasm must not move when the instrumenter's code is reorganised. A change of metering
// semantics changes them on purpose, and this file with it.
import { describe, expect, it } from 'vitest';
import { hashWasmModules } from '../../test/support/hash-wasm.ts';
import { CORPUS, loadCorpusModule } from '../zapps/corpus/corpus.ts';
import { ALL_MODULES, loadZApp } from '../zapps/load.ts';
import { instrument } from './instrument.ts';
import pinned from './instrumented-hashes.json' with { type: 'json' };
import { gasTableByName } from './registry.ts';
import { DEFAULT_GAS_TABLE, EXTENDED_GAS_TABLE } from './table.ts';

/** instrumentedHash, or the rejection's code. */
function outcome(bytes: Uint8Array, tableName: string, raw: boolean): string {
  try {
    return instrument(bytes, gasTableByName(tableName), { raw }).instrumentedHash;
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

describe('pinned instrumented output', () => {
  for (const tableName of [DEFAULT_GAS_TABLE, EXTENDED_GAS_TABLE]) {
    const expected = (pinned as Record<string, Record<string, string>>)[tableName]!;
    it(`${tableName}: every zApp and test module`, () => {
      const actual = Object.fromEntries(ALL_MODULES.map((name) => [name, outcome(loadZApp(name), tableName, false)]));
      expect(actual).toEqual(Object.fromEntries(ALL_MODULES.map((name) => [name, expected[name]])));
    });
    it(`${tableName}: every C corpus module (custom sections dropped)`, () => {
      const actual = Object.fromEntries(CORPUS.map((name) => [`corpus/${name}`, outcome(loadCorpusModule(name), tableName, false)]));
      expect(actual).toEqual(Object.fromEntries(CORPUS.map((name) => [`corpus/${name}`, expected[`corpus/${name}`]])));
    });
    it(`${tableName}: every module shipped in hash-wasm`, () => {
      const modules = hashWasmModules();
      const actual = Object.fromEntries(modules.map((m) => [`hash-wasm/${m.name}`, outcome(m.bytes, tableName, true)]));
      expect(actual).toEqual(Object.fromEntries(modules.map((m) => [`hash-wasm/${m.name}`, expected[`hash-wasm/${m.name}`]])));
    });
  }
});
