#!/usr/bin/env node
import { appendFileSync } from 'node:fs';
process.on('exit', () => { const u = process.cpuUsage(); appendFileSync('/tmp/clicpu.log', `${((u.user + u.system) / 1000).toFixed(0)} ${process.argv[2]} ${process.env.TEST_FILE_HINT ?? ''} ${process.cwd()}\n`); });
import { main } from '../dist/main.js';
process.stderr.on('error', () => {});
main(process.argv).then((code) => { process.exitCode = code; });
