#!/usr/bin/env node
/*
 * The hmmkit command line: demo, scenarios, explore, replay.
 */
import { runCli, USAGE } from './commands/run-cli.js';
import { UsageError } from './commands/usage-error.js';

runCli(process.argv.slice(2), (line) => process.stdout.write(`${line}\n`)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError) {
      process.stderr.write(`hmmkit: ${e.message}\n\n${USAGE}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`hmmkit: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
