import { resetRuntime } from '@hmmkit/runtime';
import { beforeEach } from 'vitest';

// Every test starts with a fresh runtime: no leftover task, lock or lockdep edge.
beforeEach(() => resetRuntime());
