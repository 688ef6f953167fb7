import { mirrorVsMigrationScenario, validFlagVsMigrationScenario } from './mirror-vs-migration.js';
import type { Scenario } from './scenario.js';

export type { Scenario } from './scenario.js';

/** Every built-in scenario, by name. */
export const scenarios: ReadonlyMap<string, Scenario> = new Map(
  [mirrorVsMigrationScenario, validFlagVsMigrationScenario].map((s) => [s.name, s]),
);
