/** `hmmkit explore` / `hmmkit replay` / `hmmkit scenarios`: the schedule explorer over built-in scenarios. */

import { writeFileSync } from 'node:fs';
import {
  type ExploreOptions,
  explore,
  replay,
  setTraceSink,
  type TraceEvent,
} from '@hmmkit/runtime';
import { type Scenario, scenarios } from '../scenarios/index.js';
import { toChromeTrace } from '../trace-export.js';
import { UsageError } from './usage-error.js';

type Print = (line: string) => void;

/** Lists the built-in scenarios. */
export function listScenarios(print: Print): number {
  for (const s of scenarios.values())
    print(`${s.name.padEnd(28)} ${s.expect === 'fail' ? '(broken) ' : ''}${s.summary}`);
  return 0;
}

/** Explores one scenario; exit code 0 when the outcome matches what the scenario expects. */
export async function exploreCommand(
  name: string | undefined,
  opts: ExploreOptions,
  print: Print,
): Promise<number> {
  const s = scenarioNamed(name);
  const res = await explore(s.run, opts);
  if (res.failure) {
    print(`${s.name}: failed after ${res.runs} runs: ${String(res.failure.error)}`);
    print(`schedule: ${res.failure.schedule}`);
    print(`replay:   hmmkit replay ${s.name} '${res.failure.schedule}'`);
  } else {
    print(
      `${s.name}: ${res.runs} runs, no failure${res.exhausted ? ' (every schedule within the bound)' : ''}`,
    );
  }
  return (res.failure !== undefined) === (s.expect === 'fail') ? 0 : 1;
}

/** Replays one schedule of a scenario, optionally writing a Perfetto trace. */
export async function replayCommand(
  name: string | undefined,
  schedule: string | undefined,
  tracePath: string | undefined,
  print: Print,
): Promise<number> {
  const s = scenarioNamed(name);
  if (!schedule) throw new UsageError('replay needs a schedule string, as printed by explore');
  const events: TraceEvent[] = [];
  if (tracePath) setTraceSink((e) => events.push(e));
  try {
    await replay(schedule, s.run);
    print(`${s.name}: schedule ${schedule} ran without failure`);
    return 0;
  } catch (e) {
    print(`${s.name}: schedule ${schedule} fails: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  } finally {
    setTraceSink(undefined);
    if (tracePath) {
      writeFileSync(tracePath, JSON.stringify(toChromeTrace(events)));
      print(`trace: ${events.length} events written to ${tracePath} (open it in ui.perfetto.dev)`);
    }
  }
}

function scenarioNamed(name: string | undefined): Scenario {
  const s = name === undefined ? undefined : scenarios.get(name);
  if (!s)
    throw new UsageError(
      `unknown scenario ${JSON.stringify(name)}; known: ${[...scenarios.keys()].join(', ')}`,
    );
  return s;
}
