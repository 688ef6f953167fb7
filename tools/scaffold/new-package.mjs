#!/usr/bin/env node
// Usage: node tools/scaffold/new-package.mjs <dir under packages/> <npm name> "<one-line description>"
// Writes the files every hmmkit package shares; refuses to touch an existing directory.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const [dir, name, description] = process.argv.slice(2);
if (!dir || !name || !description) {
  console.error('usage: new-package.mjs <dir under packages/> <npm name> "<description>"');
  process.exit(2);
}
const root = join(import.meta.dirname, '..', '..');
const pkgDir = join(root, 'packages', dir);
if (existsSync(pkgDir)) {
  console.error(`refusing to overwrite ${relative(root, pkgDir)}`);
  process.exit(1);
}
const toRoot = relative(pkgDir, root).replaceAll('\\', '/');

const packageJson = {
  name,
  version: '0.0.0',
  description,
  license: 'MIT',
  type: 'module',
  sideEffects: false,
  exports: {
    // `types` first; inside it and beside it, the `@hmmkit/source` condition
    // sends the workspace's tsc, vitest and tsx to the TypeScript source.
    '.': {
      types: { '@hmmkit/source': './src/index.ts', default: './dist/index.d.ts' },
      '@hmmkit/source': './src/index.ts',
      default: './dist/index.js',
    },
    './package.json': './package.json',
  },
  main: './dist/index.js',
  types: './dist/index.d.ts',
  files: ['dist', 'src', '!src/**/*.test.ts'],
  engines: { node: '>=20.19' },
  publishConfig: { access: 'public' },
  scripts: {
    build: 'tsc -p tsconfig.build.json',
    typecheck: 'tsc -p tsconfig.json',
    lint: 'biome ci .',
    test: 'vitest run',
    'test:build': 'publint --strict && attw --pack . --profile esm-only',
  },
  // The tools its scripts run, at the workspace catalog's versions.
  devDependencies: {
    '@arethetypeswrong/cli': 'catalog:',
    '@biomejs/biome': 'catalog:',
    '@hmmkit/vitest-config': 'workspace:*',
    '@types/node': 'catalog:',
    publint: 'catalog:',
    typescript: 'catalog:',
    vitest: 'catalog:',
  },
};

const files = {
  'package.json': `${JSON.stringify(packageJson, null, 2)}\n`,
  'tsconfig.json': `${JSON.stringify(
    { extends: `${toRoot}/tsconfig.base.json`, include: ['src', 'test', 'bench', '*.ts'] },
    null,
    2,
  )}\n`,
  'tsconfig.build.json': `${JSON.stringify(
    {
      extends: `${toRoot}/tsconfig.base.json`,
      compilerOptions: { noEmit: false, rootDir: 'src', outDir: 'dist', customConditions: [] },
      include: ['src'],
      exclude: ['src/**/*.test.ts'],
    },
    null,
    2,
  )}\n`,
  'vitest.config.ts': `import { hmmkitConfig } from '@hmmkit/vitest-config';\n\nexport default hmmkitConfig();\n`,
  'README.md': `# ${name}\n\n${description}\n`,
  'src/index.ts': `export {};\n`,
};

mkdirSync(join(pkgDir, 'src'), { recursive: true });
mkdirSync(join(pkgDir, 'test'), { recursive: true });
for (const [file, text] of Object.entries(files)) writeFileSync(join(pkgDir, file), text);
console.log(`created ${relative(root, pkgDir)} (${name})`);
