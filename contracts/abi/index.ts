// The gas contract's ABI (docs/protocol.md §Call data): selectors, method and receipt encodings,
// the published ABI.
export * from './methods.ts';
export * from './receipt.ts';
export * from './gas-contract-abi.ts';
