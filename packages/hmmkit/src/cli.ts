#!/usr/bin/env node
/*
 * The hmmkit command line: demo, scenarios, explore, replay.
 */
import { parseArgs } from 'node:util';
import type { ExploreOptions } from '@hmmkit/runtime';
import { demo } from './commands/demo.js';
import { exploreCommand, listScenarios, replayCommand } from './commands/explore.js';
import { UsageError } from './commands/usage-error.js';

const USAGE = `usage: hmmkit <command> [options]

commands:
  demo                                  a device mirrors a process while its page tables change; then the explorer
  scenarios                             list the built-in scenarios
  explore <scenario> [--policy dfs|random|pct] [--bound N] [--seed N] [--runs N] [--depth N]
                                        run a scenario under many interleavings (default: dfs, bound 2)
  replay <scenario> <schedule> [--trace out.json]
                                        replay one schedule; --trace writes a Perfetto-readable trace
  help                                  this text`;

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      policy: { type: 'string', default: 'dfs' },
      bound: { type: 'string' },
      seed: { type: 'string' },
      runs: { type: 'string' },
      depth: { type: 'string' },
      trace: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') {
    print(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  switch (command) {
    case 'demo':
      return demo(print);
    case 'scenarios':
      return listScenarios(print);
    case 'explore':
      return exploreCommand(rest[0], exploreOptions(values), print);
    case 'replay':
      return replayCommand(rest[0], rest[1], values.trace, print);
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

function exploreOptions(v: Record<string, string | boolean | undefined>): ExploreOptions {
  const policy = v.policy;
  if (policy !== 'dfs' && policy !== 'random' && policy !== 'pct')
    throw new UsageError(`--policy must be dfs, random or pct, got ${JSON.stringify(policy)}`);
  const o: ExploreOptions = { policy };
  const bound = count('--bound', v.bound);
  const seed = count('--seed', v.seed);
  const runs = count('--runs', v.runs);
  const depth = count('--depth', v.depth);
  if (bound !== undefined) o.preemptionBound = bound;
  if (seed !== undefined) o.seed = seed;
  if (runs !== undefined) o.runs = runs;
  if (depth !== undefined) o.depth = depth;
  return o;
}

function count(flag: string, raw: string | boolean | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || !Number.isSafeInteger(n))
    throw new UsageError(`${flag} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return n;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError || (e instanceof TypeError && 'code' in e)) {
      process.stderr.write(`hmmkit: ${e.message}\n\n${USAGE}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`hmmkit: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
