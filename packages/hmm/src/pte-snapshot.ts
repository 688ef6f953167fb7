/**
 * The per-page rules of hmm_vma_handle_pte() (mm/hmm.c) that run for every page of a
 * snapshot: the request check (hmm_pte_need_fault) and the hot loop over one PTE table.
 * Everything rarer (faults, non-present entries, special PTEs) is left to hmm-walk.ts.
 */
import { PTE_PRESENT, PTE_PROTNONE, PTE_SPECIAL, PTE_WRITE, ZERO_PFN } from '@hmmkit/mm';
import {
  HMM_PFN_INOUT_FLAGS,
  HMM_PFN_REQ_FAULT,
  HMM_PFN_REQ_WRITE,
  HMM_PFN_VALID,
  HMM_PFN_WRITE,
} from './pfn.js';

// Module-local aliases of the imported constants the hot loops test: V8 folds a module's own
// `const`s but reloads imported bindings on every use (measured: 3x slower snapshot loop).
const PRESENT = PTE_PRESENT;
const WRITE = PTE_WRITE;
const PROTNONE = PTE_PROTNONE;
const SPECIAL = PTE_SPECIAL;
const ZERO = ZERO_PFN;
const VALID = HMM_PFN_VALID;
const OUT_WRITE = HMM_PFN_WRITE;
const INOUT = HMM_PFN_INOUT_FLAGS;
const REQ_FAULT = HMM_PFN_REQ_FAULT;
const REQ_WRITE = HMM_PFN_REQ_WRITE;

/** hmm_pte_need_fault() results (HMM_NEED_FAULT, HMM_NEED_WRITE_FAULT). */
export const NEED_FAULT = 1;
export const NEED_WRITE_FAULT = 2;
/** VALID | WRITE in the flags word. */
export const VALID_WRITE = VALID | OUT_WRITE;

/** hmm_pte_need_fault(): what `req` (already masked) needs from an entry giving `cpu`. */
export function pteNeedFault(req: number, cpu: number): number {
  if (!(req & REQ_FAULT)) return 0;
  if (req & REQ_WRITE && !(cpu & OUT_WRITE)) return NEED_FAULT | NEED_WRITE_FAULT;
  return cpu & VALID ? 0 : NEED_FAULT;
}

/**
 * The hot loop: outputs entries k0.. of one PTE table (slots s0 + k, outputs i0 + k) while
 * each is either none and not asked for, or present, normal (or the zero page) and already
 * giving what is asked. Returns the first k that needs handlePte(), or n. A free function
 * with plain arguments: V8 compiles it several times faster than the same loop in a method.
 */
export function snapshotPtes(
  ptBits: Uint16Array,
  ptPfn: Int32Array,
  s0: number,
  outPfn: Float64Array,
  outFlags: Uint16Array,
  i0: number,
  k0: number,
  n: number,
  mask: number,
  def: number,
): number {
  for (let k = k0, i = i0 + k0; k < n; k++, i++) {
    const b = ptBits[s0 + k]!;
    const req = (outFlags[i]! & mask) | def;
    if (!(b & PRESENT)) {
      if (b !== 0 || req & REQ_FAULT) return k;
      outPfn[i] = 0;
      outFlags[i] = outFlags[i]! & INOUT;
      continue;
    }
    const p = ptPfn[s0 + k]!;
    const cpu = b & PROTNONE ? 0 : b & WRITE ? VALID_WRITE : VALID;
    if ((b & SPECIAL && p !== ZERO) || pteNeedFault(req, cpu)) return k;
    outPfn[i] = p;
    outFlags[i] = (outFlags[i]! & INOUT) | cpu;
  }
  return n;
}
