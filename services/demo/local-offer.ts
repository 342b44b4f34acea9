/**
 * What the local demo offers the dashboard page so a visitor can act: the demo actors' keys (public
 * by design, derived from their names; the page signs with them in the browser), the honest
 * provider's runners, and the module hashes of the bundled zApps so the page can name them.
 */
import { sha3 } from '../../contracts/hash.ts';
import { loadZApp, ZAPPS } from '../../unikernel-runner/zapps/load.ts';
import type { DashboardLocal } from '../dashboard/plugin.ts';
import type { LocalSystem } from './system.ts';
import { DEMO_KEYS } from './genesis.ts';
import type { DemoActor } from './genesis.ts';

/** The actors a visitor may sign as: the owner, the honest provider and the users. */
export const OFFERED_ACTORS: readonly DemoActor[] = ['owner', 'provider', 'alice', 'bob', 'carol', 'dave', 'erin'];

export function demoLocalOffer(system: Pick<LocalSystem, 'runners'>): DashboardLocal {
  const runner = system.runners[0];
  return {
    keys: OFFERED_ACTORS.map((name) => ({ name, address: DEMO_KEYS[name].address, privateKey: DEMO_KEYS[name].privateKey })),
    runners: runner === undefined ? [] : [{ provider: DEMO_KEYS.provider.address, url: runner.url }],
    zApps: ZAPPS.map((name) => ({ name, moduleHash: sha3(loadZApp(name)) })),
  };
}
