import type { UserConfig, ViteUserConfig } from 'vitest/config';
/** The shared vitest config; `test` overrides merge over the defaults. */
export declare function hmmkitConfig(test?: ViteUserConfig['test']): UserConfig;
