import { explore, exploreOrThrow, replay, setTraceSink } from '@hmmkit/runtime';
import { describe, expect, it } from 'vitest';
import {
  cpuWriteVsDevice,
  forkVsDevice,
  mprotectVsDevice,
  munmapVsDevice,
  nouveauOrderVsFork,
  twoDevices,
} from './scenarios.js';

const DFS = { policy: 'dfs', preemptionBound: 2 } as const;

describe('interleavings under the explorer (DFS, two preemptions, exhausted)', () => {
  it('a CPU write racing a device atomic loses no byte and never overlaps the exclusive window', async () => {
    const res = await exploreOrThrow(cpuWriteVsDevice, DFS);
    expect(res.exhausted).toBe(true);
    expect(res.runs).toBeGreaterThan(10);
  });

  it('two devices asking for the same page take turns; both increments land', async () => {
    let retries = 0;
    setTraceSink((e) => {
      if (e.kind === 'device-exclusive' && e.name === 'retry') retries++;
    });
    const res = await exploreOrThrow(twoDevices, DFS).finally(() => setTraceSink(undefined));
    expect(res.exhausted).toBe(true);
    // Some schedule lets the other device convert the PTE while this one waits for the page
    // lock, so the second walk sees a changed entry and the whole sequence is retried.
    expect(retries).toBeGreaterThan(0);
  });

  it('fork racing a device atomic: fork fails with ENOMEM while the driver holds the page lock, otherwise the child gets no exclusive entry; no byte lost', async () => {
    const outcomes = new Set<string>();
    const res = await exploreOrThrow(forkVsDevice(outcomes), DFS);
    expect(res.exhausted).toBe(true);
    expect([...outcomes].sort()).toEqual(['ENOMEM', 'done']);
  });

  it('munmap racing a device atomic: the device either finishes first or gets EFAULT, nothing leaks', async () => {
    const outcomes = new Set<string>();
    const res = await exploreOrThrow(munmapVsDevice(outcomes), DFS);
    expect(res.exhausted).toBe(true);
    expect([...outcomes].sort()).toEqual(['EFAULT', 'done']);
  });

  it('mprotect(PROT_READ) racing a device atomic: the byte is incremented exactly when the device succeeded', async () => {
    const res = await exploreOrThrow(mprotectVsDevice, DFS);
    expect(res.exhausted).toBe(true);
  });

  it('with read_begin before makeDeviceExclusive (nouveau order), fork interrupting an attempt livelocks the driver', async () => {
    const res = await explore(nouveauOrderVsFork, DFS);
    const failure = res.failure;
    if (failure === undefined) throw new Error(`no livelock found in ${res.runs} runs`);
    expect(failure.error).toMatchObject({ code: 'EBUSY' });
    await expect(replay(failure.schedule, nouveauOrderVsFork)).rejects.toMatchObject({
      code: 'EBUSY',
    });
  });
});
