/** Names the instrumenter adds to a module (DESIGN §7); a module may not use them itself. */
export const GAS_EXPORT = 'zgas_gas';
export const DEPTH_EXPORT = 'zgas_depth';
export const REFILL_MODULE = 'zgas';
export const REFILL_FIELD = 'refill';
