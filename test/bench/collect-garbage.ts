/**
 * A full garbage collection, now. The benchmark shares its process with the node it measures:
 * what it allocated to prepare a run (tens of thousands of signed receipts, a plan of hundreds of
 * thousands of calls) would otherwise be collected during the next run and billed to it.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

export function collectGarbage(): void {
  gc();
}
