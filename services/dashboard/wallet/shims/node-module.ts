/** `node:module` in the browser: no native addon loads, so signatures use the pure-JS backend. */
export function createRequire(): (id: string) => never {
  return (id: string) => {
    throw new Error(`${id} is not available in a browser`);
  };
}
