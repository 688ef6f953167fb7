import { hmmkitConfig } from '@hmmkit/vitest-config';

export default hmmkitConfig();
