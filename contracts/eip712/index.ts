// EIP-712 typed data of zgas (docs/protocol.md §Signatures): domain, types, digests, signature
// backends, signing.
export * from './typed.ts';
export * from './backends.ts';
export * from './sign.ts';
export { keccak256, keccakReady, keccakImplementation } from './keccak.ts';
