/** hash-wasm in the browser bundle: absent, so keccak runs on the pure-JS implementation and the page needs no WebAssembly permission. */
export function createKeccak(): Promise<never> {
  return Promise.reject(new Error('no WebAssembly keccak in the browser bundle'));
}
