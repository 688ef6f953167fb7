/** A named, self-contained program the CLI can run once or under the explorer. */
export interface Scenario {
  readonly name: string;
  readonly summary: string;
  /** 'pass': a correct pattern that no schedule may break; 'fail': a known-broken pattern the explorer must catch. */
  readonly expect: 'pass' | 'fail';
  /** Runs the scenario once; throws when it observes a broken invariant. Creates everything it uses. */
  run(): Promise<void>;
}
