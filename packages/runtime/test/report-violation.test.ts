import { describe, expect, it } from 'vitest';
import { explore, KernelError, RuntimeViolation, reportViolation, spawn } from '../src/index.js';

describe('reportViolation', () => {
  it('returns a RuntimeViolation of the given kind for the caller to throw', () => {
    const v = reportViolation('assertion', 'device saw a stale pfn');
    expect(v).toBeInstanceOf(RuntimeViolation);
    expect(v.kind).toBe('assertion');
    expect(v.message).toMatch(/stale pfn/);
  });

  it('fails an explorer run even when the thrown violation is caught and swallowed', async () => {
    const res = await explore(
      async () => {
        const t = spawn('driver', () => {
          try {
            throw reportViolation('assertion', 'swallowed warning');
          } catch {
            return 'carried on';
          }
        });
        expect(await t.join()).toBe('carried on');
      },
      { policy: 'dfs', preemptionBound: 0 },
    );
    expect(String(res.failure?.error)).toMatch(/swallowed warning/);
  });

  it('rejects an unknown kind and an empty message with EINVAL', () => {
    expect(() => reportViolation('oops' as never, 'x')).toThrow(KernelError);
    expect(() => reportViolation('assertion', '')).toThrow(/message/);
  });
});
