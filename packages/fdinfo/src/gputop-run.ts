/**
 * The gputop loop: full discovery every --discover-every samples, a cheap refresh
 * of the known fdinfo files in between. Shared by the `hmmkit-gputop` bin and the
 * `hmmkit top` command.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  GPUTOP_USAGE,
  type GputopArgs,
  parseGputopArgs,
  renderTable,
  sortUsages,
  toJsonDocument,
} from './gputop-view.js';
import { DrmClientScanner } from './scanner.js';
import type { DrmClientSample } from './types.js';
import { DrmUsageTracker } from './utilisation.js';

/** Where gputop writes: text chunks, and whether the screen may be cleared between samples. */
export interface GputopOutput {
  write(text: string): void;
  readonly isTTY?: boolean;
}

/**
 * Runs gputop with command-line `argv` until `--once` is done (or forever), writing to `out`.
 * Resolves with the exit code.
 *
 * @throws KernelError EINVAL for bad arguments (from parseGputopArgs).
 */
export async function runGputop(argv: readonly string[], out: GputopOutput): Promise<number> {
  const args = parseGputopArgs([...argv]);
  if (args.help) {
    out.write(`${GPUTOP_USAGE}\n`);
    return 0;
  }
  const scanner = new DrmClientScanner({ procRoot: args.procRoot });
  const tracker = new DrmUsageTracker();
  let samples = scanner.discover();
  if (samples.length === 0) {
    const msg = `no DRM clients found under ${args.procRoot}`;
    out.write(args.json ? `${JSON.stringify({ clients: [], message: msg })}\n` : `${msg}\n`);
    return 0;
  }
  tracker.update(samples);
  for (let tick = 1; ; tick++) {
    await sleep(args.intervalMs);
    samples = tick % args.discoverEvery === 0 ? scanner.discover() : scanner.refresh();
    show(args, samples, tracker, out);
    if (args.once) return 0;
  }
}

function show(
  args: GputopArgs,
  samples: DrmClientSample[],
  tracker: DrmUsageTracker,
  out: GputopOutput,
): void {
  const usages = sortUsages(tracker.update(samples), args.sort).slice(0, args.limit);
  if (args.json) {
    out.write(`${JSON.stringify(toJsonDocument(usages, samples))}\n`);
    return;
  }
  const clear = out.isTTY && !args.once ? '\x1b[H\x1b[2J' : '';
  out.write(`${clear}${renderTable(usages, samples)}\n`);
}
