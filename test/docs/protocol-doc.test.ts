import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { METHOD_DECLARATIONS, METHOD_NAMES, RECEIPT_ENCODED_BYTES, selectors } from '../../contracts/abi/index.ts';
import { EMPTY_STATE_HASH } from '../../contracts/hash.ts';
import { TYPES, encodeType } from '../../contracts/eip712/index.ts';

const doc = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');

describe('docs/protocol.md says what the code does', () => {
  it('lists every method with its declaration and selector', () => {
    const rows = [...doc.matchAll(/^\| `([A-Za-z]+\([^`]*\))` \| `(0x[0-9a-f]{8})` \|$/gm)].map((m) => [m[1], m[2]]);
    expect(rows).toEqual(METHOD_NAMES.map((name) => [METHOD_DECLARATIONS[name], selectors[name]]));
  });

  it('states the three typed-data types as they are hashed', () => {
    const flat = doc.replace(/\s+/g, ' ');
    for (const [name, fields] of Object.entries(TYPES)) {
      const declared = encodeType(name, fields).replace(/,/g, ', ');
      expect(flat, name).toContain(declared);
    }
  });

  it('gives the empty state hash and the receipt encoding size', () => {
    expect(doc).toContain(EMPTY_STATE_HASH);
    expect(doc).toContain(`always ${RECEIPT_ENCODED_BYTES} bytes`);
  });
});
