/** A positive integer command-line value (1e3 spellings accepted), or a RangeError naming the option. */
export function count(name: string, text: string): number {
  const v = Number(text);
  if (!Number.isSafeInteger(v) || v <= 0)
    throw new RangeError(`--${name}: not a positive integer: ${text}`);
  return v;
}

/** `pnpm bench -- --sizes ...` passes the `--` through; both spellings work. */
export function cliArgs(): string[] {
  const argv = process.argv.slice(2);
  return argv[0] === '--' ? argv.slice(1) : argv;
}
