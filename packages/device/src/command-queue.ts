/**
 * A command queue (a ring, a GPU scheduler entity) of one client on one engine class. Jobs
 * run in submission order; each carries a duration in virtual ns and optional DMA ops that
 * the engine performs through the client's translations when the job starts.
 */
import type { KernelError } from '@hmmkit/runtime';
import type { DeviceContext } from './context.js';
import { DmaFence } from './fence.js';
import type { Scheduler } from './scheduler.js';
import { checkAddr, checkBytes, checkInt, invalid } from './validate.js';

/** A DMA operation of a job: copy between two device addresses, or store bytes. */
export type DmaOp =
  | { readonly op: 'copy'; readonly src: number; readonly dst: number; readonly length: number }
  | { readonly op: 'write'; readonly va: number; readonly data: Uint8Array };

/** What a job is: how long the engine is busy, what it touches, what it waits for. */
export interface DeviceJob {
  /** Engine time of the job in ns (0 allowed). */
  readonly durationNs: number;
  /** DMA ops performed, in order, when the job starts. */
  readonly ops?: readonly DmaOp[];
  /** Fences of this device that must signal before the job starts. */
  readonly deps?: readonly DmaFence[];
}

const MAX_DURATION = 2 ** 50;
const MAX_DMA = 2 ** 30;

/**
 * One client's in-order queue on one engine class. Mirrors a drm_sched_entity (a context's
 * ring). Created by DeviceContext.createQueue().
 */
export class CommandQueue {
  /** Fence context of this queue. */
  readonly fenceContext: number;
  #seqno = 0;
  #lastEnd = 0;

  constructor(
    readonly context: DeviceContext,
    readonly engine: string,
    private readonly scheduler: Scheduler,
    private readonly engineIndex: number,
    /** Performs a job's ops through the client's translations (its DMA path). */
    private readonly runOps: (ops: readonly DmaOp[]) => Promise<void>,
  ) {
    this.fenceContext = scheduler.allocContext();
  }

  /**
   * Submits a job and returns its fence. Mirrors drm_sched_job_arm() +
   * drm_sched_entity_push_job() (amdgpu_cs_ioctl, nouveau_exec_ioctl_exec): the job is
   * placed in virtual time at once; it runs when the device is let run past its start point.
   *
   * **Context**: never sleeps.
   * @throws KernelError EINVAL on a bad duration, op or dependency (foreign fence), or when
   * the client is closed.
   * @example
   * const q = ctx.createQueue('copy');
   * const f = q.submit({ durationNs: 5000, ops: [{ op: 'copy', src, dst, length: 4096 }] });
   * await f.wait();
   */
  submit(job: DeviceJob): DmaFence {
    const fn = 'CommandQueue.submit';
    this.context.assertOpen(fn);
    if (typeof job !== 'object' || job === null) throw invalid(fn, 'job', 'an object', job);
    const duration = checkInt(fn, 'job.durationNs', job.durationNs, 0, MAX_DURATION);
    const ops = checkOps(fn, job.ops ?? []);
    const ready = this.#depsReady(fn, job.deps ?? []);
    const { start, end } = this.scheduler.place(
      this.engineIndex,
      Math.max(ready, this.#lastEnd),
      duration,
    );
    this.#lastEnd = end;
    const fence = new DmaFence(this.scheduler, this.fenceContext, ++this.#seqno, end);
    const run = this.runOps;
    this.scheduler.enqueue({
      context: this.context,
      engine: this.engineIndex,
      start,
      end,
      fence,
      run: () => run(ops),
      running: false,
      error: undefined as KernelError | undefined,
    });
    return fence;
  }

  #depsReady(fn: string, deps: readonly DmaFence[]): number {
    if (!Array.isArray(deps)) throw invalid(fn, 'job.deps', 'an array of DmaFence', deps);
    let t = 0;
    for (const [i, d] of deps.entries()) {
      if (!(d instanceof DmaFence) || !d.isOf(this.scheduler))
        throw invalid(fn, `job.deps[${i}]`, 'a DmaFence of this device', d);
      if (!d.signaled && d.point > t) t = d.point;
    }
    return t;
  }
}

function checkOps(fn: string, ops: readonly DmaOp[]): readonly DmaOp[] {
  if (!Array.isArray(ops)) throw invalid(fn, 'job.ops', 'an array of DmaOp', ops);
  for (const [i, o] of ops.entries()) checkOp(fn, `job.ops[${i}]`, o);
  return ops.slice();
}

function checkOp(fn: string, at: string, o: DmaOp): void {
  if (typeof o !== 'object' || o === null) throw invalid(fn, at, 'a DmaOp object', o);
  if (o.op === 'copy') {
    checkAddr(fn, `${at}.src`, o.src);
    checkAddr(fn, `${at}.dst`, o.dst);
    checkInt(fn, `${at}.length`, o.length, 0, MAX_DMA);
  } else if (o.op === 'write') {
    checkAddr(fn, `${at}.va`, o.va);
    checkBytes(fn, `${at}.data`, o.data);
  } else throw invalid(fn, `${at}.op`, "'copy' or 'write'", (o as { op: unknown }).op);
}
