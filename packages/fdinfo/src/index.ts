export type { DriverSampleName } from './driver-samples.js';
export { DRIVER_SAMPLES } from './driver-samples.js';
export { formatFdinfo } from './format.js';
export { type GputopOutput, runGputop } from './gputop-run.js';
export type { GputopArgs, GputopSortKey } from './gputop-view.js';
export {
  GPUTOP_SORT_KEYS,
  parseGputopArgs,
  peakBusy,
  renderTable,
  residentBytes,
  sortUsages,
  toJsonDocument,
} from './gputop-view.js';
export { parseFdinfo } from './parse.js';
export type { DirStat, ProcFs } from './proc-fs.js';
export { nodeProcFs } from './proc-fs.js';
export type { ScannerOptions, ScanOptions, ScanStats } from './scanner.js';
export { DrmClientScanner, scanClients } from './scanner.js';
export type { FdinfoIssue } from './syntax-error.js';
export { FdinfoSyntaxError } from './syntax-error.js';
export type { SyntheticFd, SyntheticProcess, SyntheticTreeSpec } from './synthetic-procfs.js';
export { generateProcesses, withClientId, writeSyntheticProcfs } from './synthetic-procfs.js';
export type {
  DrmClientSample,
  DrmEngineStats,
  DrmFdinfo,
  DrmHolder,
  DrmMemoryStats,
  ParseFdinfoOptions,
} from './types.js';
export { formatSize } from './units.js';
export type {
  ClientUsage,
  EngineUtilisation,
  ProcessUsage,
  UtilisationBasis,
} from './utilisation.js';
export { clientUsage, DrmUsageTracker, engineUtilisation, usageByProcess } from './utilisation.js';
