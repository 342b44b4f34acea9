import { decodeMethod } from '../abi/index.ts';
import { callHash, defaultBackend, recoverCallSigner, verifyReceipt } from '../eip712/index.ts';
import type { Domain, SignatureBackend } from '../eip712/index.ts';
import { ZgasError } from '../errors.ts';
import { parseAddress, sameAddress } from '../hex.ts';
import type { Method, SignedCall, SettlementReceipt, VerifiedReceipt } from '../types.ts';
import type { CallInput, ReceiptsInput } from './input.ts';
import { MAX_RECEIPTS_PER_SETTLE } from './limits.ts';

/**
 * Turns a signed call into the contract's input: recovers the signer (WrongSigner unless it is
 * `from`), decodes the data, verifies every receipt inside. Throws the typed error of the first
 * problem; what it returns is safe to put in a momentum (apply still checks the nonce).
 */
export function prepareCall(domain: Domain, signed: SignedCall, backend: SignatureBackend = defaultBackend): CallInput {
  const from = parseAddress(signed.from);
  const signer = recoverCallSigner(domain, signed, backend);
  if (!sameAddress(signer, from)) throw new ZgasError('WrongSigner', { from, signer });
  const decoded = decodeMethod(signed.data);
  const verify = (r: SettlementReceipt): VerifiedReceipt => verifyReceipt(domain, r, backend);
  let method: Method<VerifiedReceipt>;
  switch (decoded.name) {
    case 'Settle':
      if (decoded.receipts.length > MAX_RECEIPTS_PER_SETTLE) throw new ZgasError('BatchTooLarge', { receipts: decoded.receipts.length, max: MAX_RECEIPTS_PER_SETTLE });
      method = { name: 'Settle', receipts: decoded.receipts.map(verify) };
      break;
    case 'Challenge':
      method = { name: 'Challenge', receipt: verify(decoded.receipt), input: decoded.input, preState: decoded.preState };
      break;
    default:
      method = decoded;
  }
  return { kind: 'call', from, nonce: signed.nonce, callHash: callHash(domain, signed), method };
}

/**
 * Verifies a batch of settlement receipts (both signatures recovered) for anonymous settlement. Throws on the first receipt whose
 * signature does not verify (details.index names it); callers that want to drop bad receipts
 * individually verify them one by one with `verifyReceipt` and batch the rest.
 */
export function prepareReceipts(domain: Domain, signed: readonly SettlementReceipt[], backend: SignatureBackend = defaultBackend): ReceiptsInput {
  if (signed.length === 0) throw new ZgasError('EmptyBatch');
  if (signed.length > MAX_RECEIPTS_PER_SETTLE) throw new ZgasError('BatchTooLarge', { receipts: signed.length, max: MAX_RECEIPTS_PER_SETTLE });
  const receipts = signed.map((r, index) => {
    try {
      return verifyReceipt(domain, r, backend);
    } catch (error) {
      if (error instanceof ZgasError) throw new ZgasError(error.code, { ...error.details, index }, { cause: error });
      throw error;
    }
  });
  return { kind: 'receipts', receipts };
}
