/** One malformed line found by a strict parse. */
export interface FdinfoIssue {
  /** 1-based line number. */
  line: number;
  /** The line as read (cut to 200 characters). */
  text: string;
  reason: string;
}

/**
 * Thrown by `parseFdinfo(text, { strict: true })`: lists every malformed line.
 *
 * @example
 * try { parseFdinfo('drm-driver: i915\ndrm-engine-render: x ns', { strict: true }); }
 * catch (e) { if (e instanceof FdinfoSyntaxError) console.log(e.issues[0]?.line); } // 2
 */
export class FdinfoSyntaxError extends Error {
  override readonly name = 'FdinfoSyntaxError';
  readonly issues: readonly FdinfoIssue[];
  constructor(issues: readonly FdinfoIssue[]) {
    const lines = issues.map((i) => `line ${i.line}: ${i.reason}`);
    super(`malformed fdinfo (${issues.length} line(s)): ${lines.join('; ')}`);
    this.issues = issues;
  }
}
