/** Command-line parsing and dispatch, apart from the bin so tests can drive it. */
import { parseArgs } from 'node:util';
import { runGputop } from '@hmmkit/fdinfo';
import type { ExploreOptions } from '@hmmkit/runtime';
import { demo } from './demo.js';
import { exploreCommand, listScenarios, replayCommand } from './explore.js';
import { UsageError } from './usage-error.js';

export const USAGE = `usage: hmmkit <command> [options]

commands:
  demo                                  a device mirrors a process while its page tables change; then the explorer
  scenarios                             list the built-in scenarios
  explore <scenario> [--policy dfs|random|pct] [--bound N] [--seed N] [--runs N] [--depth N]
                                        run a scenario under many interleavings (default: dfs, bound 2)
  replay <scenario> <schedule> [--trace out.json]
                                        replay one schedule; --trace writes a Perfetto-readable trace
  top [gputop options]                  per-client GPU engine busyness from DRM fdinfo (hmmkit-gputop --help)
  help                                  this text`;

const OPTIONS = {
  policy: { type: 'string', default: 'dfs' },
  bound: { type: 'string' },
  seed: { type: 'string' },
  runs: { type: 'string' },
  depth: { type: 'string' },
  trace: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = Record<string, string | boolean | undefined>;

/**
 * Runs one hmmkit command line and resolves with its exit code; output goes to `print`.
 *
 * @throws UsageError for a wrong command line (the bin prints it with the usage, exit code 2).
 */
export async function runCli(
  argv: readonly string[],
  print: (line: string) => void,
): Promise<number> {
  if (Array.isArray(argv) && argv[0] === 'top') return top(argv.slice(1), print);
  const { values, positionals } = parse(argv);
  const [command, ...rest] = positionals;
  if (values.help || command === 'help') {
    print(USAGE);
    return 0;
  }
  switch (command) {
    case undefined:
      throw new UsageError('no command given');
    case 'demo':
      return demo(print);
    case 'scenarios':
      return listScenarios(print);
    case 'explore':
      return exploreCommand(rest[0], exploreOptions(values), print);
    case 'replay':
      return replayCommand(rest[0], rest[1], stringOf(values.trace), print);
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

/** `hmmkit top`: @hmmkit/fdinfo's gputop, its options passed through untouched. */
function top(argv: readonly string[], print: (line: string) => void): Promise<number> {
  return runGputop(argv, {
    write: (text) => print(text.replace(/\n$/, '')),
    isTTY: process.stdout.isTTY,
  });
}

function parse(argv: readonly string[]): { values: Values; positionals: string[] } {
  if (!Array.isArray(argv) || argv.some((a) => typeof a !== 'string'))
    throw new UsageError('argv must be an array of strings');
  try {
    return parseArgs({ args: [...argv], allowPositionals: true, options: OPTIONS });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
}

function exploreOptions(v: Values): ExploreOptions {
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
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw)))
    throw new UsageError(`${flag} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

function stringOf(v: string | boolean | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
