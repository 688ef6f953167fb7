import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, UsageError } from '../src/index.js';

async function run(...argv: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await runCli(argv, (l) => lines.push(l));
  return { code, out: lines.join('\n') };
}

describe('hmmkit command line', () => {
  it('lists both mirror scenarios, marking the broken one', async () => {
    const { code, out } = await run('scenarios');
    expect(code).toBe(0);
    expect(out).toMatch(/^mirror-vs-migration\s/m);
    expect(out).toMatch(/^valid-flag-vs-migration\s+\(broken\)/m);
  });

  it('explore exits 0 when a broken scenario is caught and prints a replay command', async () => {
    const { code, out } = await run('explore', 'valid-flag-vs-migration', '--bound', '2');
    expect(code).toBe(0);
    const m = out.match(/replay:\s+hmmkit replay valid-flag-vs-migration '([^']+)'/);
    expect(m, out).not.toBeNull();
    const replayed = await run('replay', 'valid-flag-vs-migration', m![1]!);
    expect(replayed.code).toBe(1);
    expect(replayed.out).toMatch(/stale device translation/);
  });

  it('replay --trace writes Chrome trace-event JSON with one thread per task', async () => {
    const explored = await run('explore', 'valid-flag-vs-migration');
    const schedule = explored.out.match(/schedule: (\S+)/)![1]!;
    const file = join(mkdtempSync(join(tmpdir(), 'hmmkit-')), 'trace.json');
    await run('replay', 'valid-flag-vs-migration', schedule, '--trace', file);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as {
      traceEvents: { ph: string; args?: { name?: string } }[];
    };
    const threads = doc.traceEvents.filter((e) => e.ph === 'M').map((e) => e.args?.name);
    expect(threads).toEqual(expect.arrayContaining(['main', 'device', 'migrate']));
    expect(doc.traceEvents.some((e) => e.ph === 'B')).toBe(true);
  });

  it('rejects bad command lines with a UsageError naming the problem', async () => {
    await expect(run()).rejects.toThrow(UsageError);
    await expect(run('frobnicate')).rejects.toThrow(/unknown command "frobnicate"/);
    await expect(run('explore', 'nope')).rejects.toThrow(/unknown scenario "nope"/);
    await expect(run('explore', 'mirror-vs-migration', '--policy', 'bfs')).rejects.toThrow(
      /--policy/,
    );
    await expect(run('explore', 'mirror-vs-migration', '--bound', '-1')).rejects.toThrow(/--bound/);
    await expect(run('replay', 'mirror-vs-migration')).rejects.toThrow(/schedule string/);
    await expect(run('demo', '--colour')).rejects.toThrow(UsageError);
    await expect(runCli('demo' as unknown as string[], () => {})).rejects.toThrow(/argv/);
  });
});

describe('hmmkit top', () => {
  it('passes its options to gputop and reports no DRM clients on an empty procfs tree', async () => {
    const root = mkdtempSync(join(tmpdir(), 'hmmkit-proc-'));
    const { code, out } = await run('top', '--once', '--proc-root', root);
    expect(code).toBe(0);
    expect(out).toBe(`no DRM clients found under ${root}`);
  });

  it('rejects a gputop option it does not know', async () => {
    await expect(run('top', '--frobnicate')).rejects.toThrow(/frobnicate/);
  });
});
