import { checkInt } from './validate.js';

/**
 * A seeded pseudo-random generator (xoshiro128**, Blackman & Vigna), the only source
 * of randomness in hmmkit: no `Math.random`, no clocks.
 *
 * **Details**: the 32-bit seed is expanded with splitmix32 into the 128-bit state, so
 * nearby seeds give unrelated streams. Same seed, same sequence, on every platform.
 *
 * @throws KernelError EINVAL if `seed` is not an integer in [0, 2^32).
 * @example
 * ```ts
 * const rng = new Prng(42);
 * const die = rng.nextInt(6) + 1;
 * ```
 */
export class Prng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    let s = checkInt('Prng', 'seed', seed, 0, 0xffffffff) >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = next();
    this.#b = next();
    this.#c = next();
    this.#d = next() | 1;
  }

  /** The next 32-bit unsigned integer. */
  nextU32(): number {
    const r = Math.imul(rotl(Math.imul(this.#b, 5), 7), 9) >>> 0;
    const t = this.#b << 9;
    this.#c ^= this.#a;
    this.#d ^= this.#b;
    this.#b ^= this.#c;
    this.#a ^= this.#d;
    this.#c ^= t;
    this.#d = rotl(this.#d, 11);
    return r;
  }

  /**
   * A uniform integer in [0, bound), without modulo bias.
   * @throws KernelError EINVAL if `bound` is not an integer in [1, 2^32].
   */
  nextInt(bound: number): number {
    checkInt('Prng.nextInt', 'bound', bound, 1, 0x100000000);
    const limit = 0x100000000 - (0x100000000 % bound);
    let x = this.nextU32();
    while (x >= limit) x = this.nextU32();
    return x % bound;
  }

  /** A uniform float in [0, 1) with 32 bits of randomness. */
  nextFloat(): number {
    return this.nextU32() / 0x100000000;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
