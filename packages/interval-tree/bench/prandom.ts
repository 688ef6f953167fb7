/**
 * The kernel's seeded PRNG, bit for bit: prandom_seed_state() and
 * prandom_u32_state() (include/linux/prandom.h, lib/random32.c), a
 * four-component Tausworthe generator (L'Ecuyer's taus113).
 */
export class Prandom {
  private s1: number;
  private s2: number;
  private s3: number;
  private s4: number;

  private constructor(s1: number, s2: number, s3: number, s4: number) {
    this.s1 = s1 >>> 0;
    this.s2 = s2 >>> 0;
    this.s3 = s3 >>> 0;
    this.s4 = s4 >>> 0;
  }

  /** prandom_seed_state(): fold the 64-bit seed to 32 bits, then raise each word to its minimum. */
  static seedState(seed: bigint): Prandom {
    const i = Number(((seed >> 32n) ^ (seed << 10n) ^ seed) & 0xffff_ffffn);
    return new Prandom(lowerBound(i, 2), lowerBound(i, 8), lowerBound(i, 16), lowerBound(i, 128));
  }

  /** A generator in a given raw state (the kernel's self-test seeds it this way). */
  static fromState(s1: number, s2: number, s3: number, s4: number): Prandom {
    return new Prandom(s1, s2, s3, s4);
  }

  /** prandom_u32_state() */
  u32(): number {
    this.s1 = taus(this.s1, 6, 13, 0xffff_fffe, 18);
    this.s2 = taus(this.s2, 2, 27, 0xffff_fff8, 2);
    this.s3 = taus(this.s3, 13, 21, 0xffff_fff0, 7);
    this.s4 = taus(this.s4, 3, 12, 0xffff_ff80, 13);
    return (this.s1 ^ this.s2 ^ this.s3 ^ this.s4) >>> 0;
  }
}

/** __seed(): each component has a minimum below which the recurrence degenerates. */
function lowerBound(x: number, m: number): number {
  return x < m ? x + m : x;
}

/** TAUSWORTHE(s, a, b, c, d) on u32 values. */
function taus(s: number, a: number, b: number, c: number, d: number): number {
  return (((s & c) << d) ^ (((s << a) ^ s) >>> b)) >>> 0;
}
