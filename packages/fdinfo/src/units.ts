/*
 * Unit handling. The kernel prints memory with drm_fdinfo_print_size(): the value is
 * divided by 1024 while it is exactly divisible, up to MiB, so the unit changes from
 * line to line ("16 MiB", "23992 KiB", "0"). drm-maxfreq takes Hz, KHz or MHz.
 */

/** Byte multipliers accepted on memory keys ('' is bytes; kB is the /proc convention). */
export const MEMORY_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  B: 1,
  KiB: 1024,
  kB: 1024,
  MiB: 1024 * 1024,
  GiB: 1024 * 1024 * 1024,
};

/** Frequency multipliers accepted on `drm-maxfreq-` (the spec's Hz | KHz | MHz, plus GHz). */
export const FREQ_UNITS: Readonly<Record<string, number>> = {
  Hz: 1,
  KHz: 1e3,
  kHz: 1e3,
  MHz: 1e6,
  GHz: 1e9,
};

const PRINT_UNITS = ['', ' KiB', ' MiB'] as const;

/**
 * Memory size as the kernel prints it (`0`, `1536`, `1 KiB`, `16 MiB`). Mirrors drm_fdinfo_print_size().
 * @throws RangeError when `bytes` is not a safe integer >= 0.
 */
export function formatSize(bytes: number): string {
  if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0) {
    throw new RangeError(`formatSize: bytes must be a safe integer >= 0, got ${String(bytes)}`);
  }
  let sz = bytes;
  let u = 0;
  while (u < PRINT_UNITS.length - 1 && sz !== 0 && sz % 1024 === 0) {
    sz /= 1024;
    u++;
  }
  return `${sz}${PRINT_UNITS[u]}`;
}
