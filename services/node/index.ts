// The node's assembly: the store, queue and bus a process connects to, and `zgas node` (host, API, workers, reconciler) in one process.
export { busEvents, connect, meteringOf, openStore, pinnedGenesis, startNode } from './node.ts';
export type { NodeOptions, RunningNode } from './node.ts';
export { startupMessage, storeOpenError } from './startup-error.ts';
