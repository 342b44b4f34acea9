import type { Hex, MethodName } from '../types.ts';
import { METHOD_NAMES, METHOD_PARAMS, METHOD_SIGNATURES, selectors } from './methods.ts';

export interface AbiParam {
  name: string;
  type: string;
  /** For receipt-carrying bytes: what the bytes hold. */
  encoding?: 'SettlementReceipt' | 'SettlementReceipt[]' | 'state';
}

/** A Solidity-ABI-style function entry, plus the zgas selector (SHA3-256, not keccak) and signature. */
export interface AbiFunction {
  type: 'function';
  name: MethodName;
  signature: string;
  selector: Hex;
  inputs: AbiParam[];
  outputs: [];
  stateMutability: 'nonpayable';
}

const ENCODINGS: Partial<Record<string, AbiParam['encoding']>> = {
  'Settle.receipts': 'SettlementReceipt[]',
  'Challenge.receipt': 'SettlementReceipt',
  'Challenge.preState': 'state',
};

/** The gas contract's ABI; published as contracts/abi/gas-contract.abi.json (a test keeps them equal). */
export const gasContractAbi: readonly AbiFunction[] = METHOD_NAMES.map((name) => ({
  type: 'function',
  name,
  signature: METHOD_SIGNATURES[name],
  selector: selectors[name],
  inputs: (METHOD_PARAMS[name] as ReadonlyArray<readonly [string, string]>).map(([field, type]) => {
    const encoding = ENCODINGS[`${name}.${field}`];
    return encoding === undefined ? { name: field, type } : { name: field, type, encoding };
  }),
  outputs: [],
  stateMutability: 'nonpayable',
}));
