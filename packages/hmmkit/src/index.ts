export { runCli, USAGE } from './commands/run-cli.js';
export { UsageError } from './commands/usage-error.js';
export { type Scenario, scenarios } from './scenarios/index.js';
export { MirrorDriver, type MirrorFaultPath } from './scenarios/mirror-driver.js';
export { type ChromeTraceEvent, toChromeTrace } from './trace-export.js';
