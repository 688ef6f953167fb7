#!/usr/bin/env node
/*
 * hmmkit-gputop: a gputop-like view of DRM clients. Full discovery every
 * --discover-every samples, cheap refresh of the known fdinfo files in between.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  GPUTOP_USAGE,
  parseGputopArgs,
  renderTable,
  sortUsages,
  toJsonDocument,
} from '../gputop-view.js';
import { DrmClientScanner } from '../scanner.js';
import type { DrmClientSample } from '../types.js';
import { DrmUsageTracker } from '../utilisation.js';

function print(
  args: ReturnType<typeof parseGputopArgs>,
  samples: DrmClientSample[],
  tracker: DrmUsageTracker,
): void {
  const usages = sortUsages(tracker.update(samples), args.sort).slice(0, args.limit);
  if (args.json) {
    process.stdout.write(`${JSON.stringify(toJsonDocument(usages, samples))}\n`);
    return;
  }
  const clear = process.stdout.isTTY && !args.once ? '\x1b[H\x1b[2J' : '';
  process.stdout.write(`${clear}${renderTable(usages, samples)}\n`);
}

async function main(argv: string[]): Promise<number> {
  const args = parseGputopArgs(argv);
  if (args.help) {
    process.stdout.write(`${GPUTOP_USAGE}\n`);
    return 0;
  }
  const scanner = new DrmClientScanner({ procRoot: args.procRoot });
  const tracker = new DrmUsageTracker();
  let samples = scanner.discover();
  if (samples.length === 0) {
    const msg = `no DRM clients found under ${args.procRoot}`;
    process.stdout.write(
      args.json ? `${JSON.stringify({ clients: [], message: msg })}\n` : `${msg}\n`,
    );
    return 0;
  }
  tracker.update(samples);
  for (let tick = 1; ; tick++) {
    await sleep(args.intervalMs);
    samples = tick % args.discoverEvery === 0 ? scanner.discover() : scanner.refresh();
    print(args, samples, tracker);
    if (args.once) return 0;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`hmmkit-gputop: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  },
);
