/**
 * `hmmkit demo`: a device mirrors a process while the kernel changes the process's
 * page tables under it (migration, COW after fork, munmap), then the explorer checks
 * the mirror's protocol against every interleaving within a preemption bound and
 * catches the historical valid-flag design.
 */
import {
  assertInvariants,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  Mm,
  migratePage,
  PAGE_SIZE,
  PhysicalMemory,
  PROT_READ,
  PROT_WRITE,
} from '@hmmkit/mm';
import { explore } from '@hmmkit/runtime';
import { scenarios } from '../scenarios/index.js';
import { hex, MirrorDriver } from '../scenarios/mirror-driver.js';

type Print = (line: string) => void;

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Runs the demo, printing each step; resolves with 0 when every check held. */
export async function demo(print: Print): Promise<number> {
  print('hmmkit demo: a device mirrors a process while the kernel changes its page tables\n');
  const memory = new PhysicalMemory({ pages: 1024 });
  const freeAtStart = memory.freePages;
  await mirrorWalkthrough(memory, print);
  const ok = await explorerWalkthrough(print);
  assertInvariants(memory);
  print(
    `\n[7] every process exited: ${memory.freePages} of ${freeAtStart} free pages back, invariants hold`,
  );
  return ok ? 0 : 1;
}

async function mirrorWalkthrough(memory: PhysicalMemory, print: Print): Promise<void> {
  const mm = Mm.create(memory);
  const addr = await mm.mmap(4 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  await mm.write(addr, text('hello, device'));
  print(`[1] process: mmap 4 anonymous pages at ${hex(addr)}, write "hello, device"`);

  const mirror = await MirrorDriver.attach(mm, addr, 4 * PAGE_SIZE, 'sequence');
  const pfn = await mirror.fault(addr);
  print(
    `[2] device: interval notifier on [${hex(addr)}, ${hex(addr + 4 * PAGE_SIZE)}); fault -> pfn ${pfn}; reads "${deviceRead(memory, pfn, 13)}"`,
  );

  const moved = await migratePage(memory, pfn);
  report(print, '[3] kernel migrates the page', mirror);
  const pfn2 = await mirror.fault(addr);
  print(
    `    CPU now maps pfn ${moved}; device refaults -> pfn ${pfn2}; reads "${deviceRead(memory, pfn2, 13)}"`,
  );

  const child = await mm.fork();
  await mm.write(addr, text('HELLO'));
  report(print, '[4] fork, then the parent writes "HELLO" (COW break)', mirror);
  const pfn3 = await mirror.fault(addr);
  const childSees = new TextDecoder().decode(await child.read(addr, 13));
  print(
    `    device refaults -> pfn ${pfn3}; reads "${deviceRead(memory, pfn3, 13)}"; the child still reads "${childSees}"`,
  );

  await mm.munmap(addr, 4 * PAGE_SIZE);
  report(print, '[5] process munmaps the range', mirror);
  mirror.checkCoherent();
  await mirror.detach();
  await child.exit();
  await mm.exit();
}

async function explorerWalkthrough(print: Print): Promise<boolean> {
  print('[6] explorer: every interleaving of a device fault and a migration, up to 2 preemptions');
  const good = await explore(scenarios.get('mirror-vs-migration')!.run, {
    policy: 'dfs',
    preemptionBound: 2,
  });
  const goodOk = good.failure === undefined && good.exhausted === true;
  print(
    `    read_begin/read_retry mirror: ${good.runs} schedules, ${goodOk ? 'no stale translation' : `FAILED: ${String(good.failure?.error)}`}`,
  );
  const bad = await explore(scenarios.get('valid-flag-vs-migration')!.run, {
    policy: 'dfs',
    preemptionBound: 2,
  });
  const f = bad.failure;
  print(
    f
      ? `    valid-flag mirror: caught after ${bad.runs} schedules: ${errorText(f.error)}\n      replay: hmmkit replay valid-flag-vs-migration '${f.schedule}'`
      : `    valid-flag mirror: NOT caught in ${bad.runs} schedules`,
  );
  return goodOk && f !== undefined;
}

function report(print: Print, step: string, mirror: MirrorDriver): void {
  const seen = mirror.events.splice(0);
  print(`${step}: the mirror's callback saw ${seen.length === 0 ? 'nothing' : seen.join(', ')}`);
}

function deviceRead(memory: PhysicalMemory, pfn: number, length: number): string {
  const buf = new Uint8Array(length);
  memory.readPage(pfn, 0, buf, 0, length);
  return new TextDecoder().decode(buf);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
