#!/usr/bin/env node
/*
 * hmmkit-gputop: a gputop-like view of DRM clients.
 */
import { runGputop } from '../gputop-run.js';

runGputop(process.argv.slice(2), process.stdout).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`hmmkit-gputop: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  },
);
