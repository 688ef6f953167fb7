import { KernelError } from './errors.js';
import { installRuntime, Runtime, rt } from './runtime.js';
import { type Task, TaskState } from './task.js';
import { emit, sink } from './trace-sink.js';
import { checkFunction, checkName, invalid } from './validate.js';

/**
 * Starts a named task ("kernel thread") running `fn`. Mirrors kthread_run().
 *
 * **Details**: the task is runnable at once but starts only when the scheduler
 * dispatches it: in FIFO mode when the running task blocks on a runtime primitive
 * (join, a contended lock, waitEvent, ...), in an explorer run when the policy picks it.
 * A task sleeps only by awaiting runtime primitives; awaiting anything else breaks the
 * one-task-at-a-time rule (the explorer reports it as `stray-await`).
 *
 * **Context**: may be called from any context, including atomic (the model does not
 * allocate a task_struct).
 *
 * @throws KernelError EINVAL if `name` is not a non-empty string or `fn` not a function.
 * @example
 * ```ts
 * const t = spawn('worker', async () => { await m.lock(); m.unlock(); return 1; });
 * await t.join(); // 1
 * ```
 */
export function spawn<T>(name: string, fn: () => Promise<T> | T): Task<T> {
  checkName('spawn', name);
  checkFunction('spawn', 'fn', fn);
  return rt.spawn(name, fn) as unknown as Task<T>;
}

/** The task running now (`main`, id 0, outside any spawned task). Mirrors `current`. */
export function currentTask(): Task {
  return rt.current;
}

/**
 * A voluntary scheduling point. Mirrors cond_resched().
 *
 * **Details**: in FIFO mode the current task goes to the back of the run queue if
 * another task is runnable, else it returns at once. In an explorer run the policy
 * chooses which task runs next (default: the current one). A task that yields
 * SPIN_LIMIT (8) times in a row without another task running is polling: from then
 * on its yields switch to the oldest other runnable task by default, at no preemption
 * cost, so a loop that polls and yields lets the task it waits for run.
 *
 * **Context**: may sleep: `sleep-in-atomic` / `sleep-in-nonblock` violations as
 * {@link mightSleep}.
 */
export function schedulePoint(): Promise<void> {
  try {
    rt.mightSleep('cond_resched()');
  } catch (e) {
    return Promise.reject(e);
  }
  return rt.resched();
}

/**
 * Asks `task` to stop and waits for it to return. Mirrors kthread_stop().
 *
 * **Details**: sets the flag that {@link kthreadShouldStop} reports and wakes the task
 * from any sleep that re-checks its condition (waitEvent, completions, join, SRCU,
 * seqcount), as wake_up_process() does; a task sleeping on a lock keeps waiting for
 * it. The task's loop must test kthreadShouldStop(), typically in its waitEvent
 * condition. Unlike the kernel, a task that has not started yet still runs its
 * function (which should test the flag first).
 *
 * **Context**: may sleep (it joins the task).
 *
 * @returns what the task function returned; rethrows what it threw.
 * @throws KernelError EINVAL if `task` is not a task of the running runtime,
 * EDEADLK if it is the calling task.
 * @example
 * ```ts
 * const worker = spawn('worker', async () => {
 *   while (!kthreadShouldStop()) await wq.waitEvent(() => queue.length > 0 || kthreadShouldStop());
 * });
 * await kthreadStop(worker);
 * ```
 */
export function kthreadStop<T>(task: Task<T>): Promise<T> {
  const t = task as unknown as TaskState;
  if (!(t instanceof TaskState) || rt.tasks[t.id] !== t) {
    return Promise.reject(
      invalid('kthreadStop', 'task', 'must be a task of the running runtime', task),
    );
  }
  if (t === rt.current) {
    return Promise.reject(new KernelError('EDEADLK', `kthreadStop: task ${t} cannot stop itself`));
  }
  t.shouldStop = true;
  for (const w of [...t.pending]) if (w.recheck) rt.wake(w);
  return task.join();
}

/** Whether kthreadStop() was called on the current task. Mirrors kthread_should_stop(). */
export function kthreadShouldStop(): boolean {
  return rt.current.shouldStop;
}

/** Options of {@link resetRuntime}. */
export interface ResetOptions {
  /** Record lock-order dependencies (default true). */
  lockdep?: boolean;
}

/**
 * Tears the default runtime down and starts a fresh one: every task other than the
 * caller is cancelled (never resumed again), the lockdep graph is emptied and `main`
 * starts over with no lock held. Use it between tests (`beforeEach(resetRuntime)`).
 *
 * @throws KernelError EBUSY inside an explorer run; EINVAL on a bad `lockdep` option.
 */
export function resetRuntime(opts: ResetOptions = {}): void {
  if (rt.explore) throw new KernelError('EBUSY', 'resetRuntime: called inside an explorer run');
  if (typeof opts !== 'object' || opts === null)
    throw invalid('resetRuntime', 'opts', 'must be an object', opts);
  const lockdep = opts.lockdep ?? true;
  if (typeof lockdep !== 'boolean')
    throw invalid('resetRuntime', 'opts.lockdep', 'must be a boolean', lockdep);
  // The old runtime stops dispatching: its parked tasks are never resumed.
  installRuntime(new Runtime(undefined, lockdep)).ended = true;
  if (sink) emit(0, 'task', 'reset');
}
