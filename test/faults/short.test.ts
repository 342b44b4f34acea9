/**
 * The fault suite in short, inside `npm test`: one scenario of `npm run test:faults` — a Postgres
 * cut under load — ending with the suite's full check: every receipt and call the node accepted
 * applied exactly once, money conserved to the base unit and `zgas replay` passing.
 */
import { describe, it } from 'vitest';
import { SCENARIO_MS, during, runScenario } from './scenario.ts';

describe('faults in short', () => {
  it('a 2-second Postgres cut under load: nothing accepted is lost or applied twice', async () => {
    await runScenario('short_pg_cut', async (c) => {
      await during(1_000);
      c.pg.cut();
      await during(2_000);
      c.pg.restore();
      await during(1_000);
    }, { expectAlive: true });
  }, SCENARIO_MS);
});
