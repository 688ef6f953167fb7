/**
 * SplitMix32-style seeded generator (Mulberry32): small, fast, and the same
 * sequence on every run, so every structure is fed identical data.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  nextU32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform integer in [0, bound), for bound up to 2^53. */
  nextInt(bound: number): number {
    if (bound <= 0x1_0000_0000) return Math.floor((this.nextU32() / 0x1_0000_0000) * bound);
    const hi = this.nextU32() * 0x20_0000; // 21 more bits: 53 bits in all
    return Math.floor(((hi + (this.nextU32() >>> 11)) / 2 ** 53) * bound);
  }

  /** Float in [0, 1). */
  nextFloat(): number {
    return this.nextU32() / 0x1_0000_0000;
  }
}
