import type { TraceEvent } from '@hmmkit/runtime';
import { describe, expect, it } from 'vitest';
import { toChromeTrace } from '../src/index.js';

describe('toChromeTrace', () => {
  it('turns switches into running slices that close when the next task runs', () => {
    const events: TraceEvent[] = [
      { ts: 1, task: 0, kind: 'task', name: 'spawn', args: { child: 1, name: 'cpu' } },
      { ts: 2, task: 1, kind: 'sched', name: 'switch', args: { from: 0, to: 1 } },
      { ts: 3, task: 1, kind: 'wait', name: 'mutex' },
      { ts: 4, task: 0, kind: 'sched', name: 'switch', args: { from: 1, to: 0 } },
    ];
    const out = toChromeTrace(events).traceEvents;
    expect(out.filter((e) => e.ph === 'M').map((e) => [e.tid, e.args?.name])).toEqual([
      [0, 'main'],
      [1, 'cpu'],
    ]);
    expect(
      out.filter((e) => e.ph === 'B' || e.ph === 'E').map((e) => `${e.ph}${e.tid}@${e.ts}`),
    ).toEqual(['B1@2', 'E1@4', 'B0@4', 'E0@4']);
    expect(out.find((e) => e.name === 'mutex')).toMatchObject({
      ph: 'i',
      cat: 'wait',
      tid: 1,
      ts: 3,
    });
  });

  it('rejects a non-array', () => {
    expect(() => toChromeTrace('x' as unknown as TraceEvent[])).toThrow(TypeError);
  });
});

describe('toChromeTrace args', () => {
  it('labels objects and stringifies bigints so the document is valid JSON', () => {
    class Mm {
      id = 7;
      self = this;
    }
    const out = toChromeTrace([
      { ts: 1, task: 0, kind: 'mm', name: 'fault', args: { mm: new Mm(), n: 10n, ok: true } },
    ]);
    const doc = JSON.parse(JSON.stringify(out));
    expect(doc.traceEvents[1].args).toEqual({ mm: 'Mm 7', n: '10', ok: true });
  });
});
