import { explore, Mutex, schedulePoint, spawn } from '../src/index.js';

async function threeTasks(): Promise<void> {
  const m = new Mutex('bench');
  const body = async () => {
    for (let i = 0; i < 10; i++) {
      await m.lock();
      m.unlock();
      await schedulePoint();
    }
  };
  const ts = [spawn('a', body), spawn('b', body), spawn('c', body)];
  for (const t of ts) await t.join();
}
const t0 = performance.now();
const r = await explore(threeTasks, { policy: 'random', seed: 1, runs: 30000 });
console.log(r.runs, (r.runs / (performance.now() - t0)) * 1000);
