// The gas contract's ABI (DESIGN §6): selectors, method and receipt encodings, the published ABI.
export * from './methods.ts';
export * from './receipt.ts';
export * from './gas-contract-abi.ts';
