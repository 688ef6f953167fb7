#!/usr/bin/env node
// The installed command. It only loads the built CLI, so that package managers
// can link it in a workspace before the first build.
import '../dist/cli.js';
