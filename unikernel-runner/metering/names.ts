/** Names the instrumenter adds to a module (docs/metering.md §Instrumentation); a module may not use them itself. */
export const GAS_EXPORT = 'zgas_gas';
export const DEPTH_EXPORT = 'zgas_depth';
export const REFILL_MODULE = 'zgas';
export const REFILL_FIELD = 'refill';
