#!/usr/bin/env node
import { main } from '../dist/main.js';

// Progress and logs go to stderr; if whatever reads it goes away (`2>&1 | head`), the job's
// outcome and exit code must not change because of it.
process.stderr.on('error', () => {});

main(process.argv).then((code) => {
  process.exitCode = code;
});
