/**
 * A fence: the completion point of one submitted job in the device's virtual time.
 * Mirrors struct dma_fence (drivers/dma-buf/dma-fence.c): a (context, seqno) pair, signaled
 * once, with an error set before signaling when the job failed (dma_fence_set_error).
 */
import type { KernelError } from '@hmmkit/runtime';
import type { Scheduler } from './scheduler.js';

/** A job's completion. Mirrors struct dma_fence. */
export class DmaFence {
  #signaled = false;
  #error: KernelError | undefined;

  readonly #scheduler: Scheduler;

  constructor(
    scheduler: Scheduler,
    /** The fence context (one per command queue, dma_fence_context_alloc()). */
    readonly context: number,
    /** Sequence number within the context, from 1. */
    readonly seqno: number,
    /** Virtual time (ns) at which the job completes and the fence signals. */
    readonly point: number,
  ) {
    this.#scheduler = scheduler;
  }

  /** Whether this fence belongs to the device of `scheduler`. */
  isOf(scheduler: Scheduler): boolean {
    return this.#scheduler === scheduler;
  }

  /** Whether the fence has signaled. Mirrors dma_fence_is_signaled(). */
  get signaled(): boolean {
    return this.#signaled;
  }

  /** The job's error (EFAULT on an unrecoverable device fault), once signaled. Mirrors dma_fence_get_status() < 0. */
  get error(): KernelError | undefined {
    return this.#error;
  }

  /**
   * Waits until the fence signals, letting the device run up to its point in virtual time
   * (the CPU sleeps while the engines work). Mirrors dma_fence_wait(fence, false).
   *
   * **Context**: may sleep; not from an invalidation callback that the device's fault path
   * can wait on, nor from the device's fault handler.
   * @example
   * const fence = queue.submit({ durationNs: 1000 });
   * await fence.wait();
   */
  async wait(): Promise<void> {
    if (!this.#signaled) await this.#scheduler.runUntil(this.point);
  }

  /** Signals (once), with `error` if the job failed. Called by the scheduler. */
  signal(error?: KernelError): void {
    this.#error = error;
    this.#signaled = true;
  }
}
