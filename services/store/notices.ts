import { INPUTS_CHANNEL } from '../db/db.ts';

/**
 * A SQL expression telling the leading host that inputs for a momentum were committed (verified
 * receipts, calls): it starts the next momentum without waiting out its interval. Postgres delivers
 * it on commit, once per transaction however many rows raise it; the payload names the store's
 * schema, as stores may share a database.
 */
export const NOTIFY_INPUTS = `pg_notify('${INPUTS_CHANNEL}', current_schema())`;
