/**
 * A full disk for one CLI child process, without root or a small filesystem: loaded with
 * `node --require` (through NODE_OPTIONS), it makes `fs.writeSync` to files whose path matches
 * CLAW_TEST_FULL_DISK_PATH (a regex) behave as on a disk that fills up: the bytes up to
 * CLAW_TEST_FULL_DISK_AFTER_BYTES (default 0) are written — the last write short, as the kernel
 * does — and every write after that fails with ENOSPC. Only writeSync is affected (results and the
 * compaction's temp copy are written with it); reads, renames and every other file are untouched.
 *
 * The patched functions are pushed into the ESM view of node:fs with syncBuiltinESMExports(), so
 * `import { writeSync } from 'node:fs'` in dist/ gets them too.
 */
'use strict';
const fs = require('node:fs');
const { syncBuiltinESMExports } = require('node:module');

const pattern = new RegExp(process.env.CLAW_TEST_FULL_DISK_PATH || '(?!)');
let room = Number(process.env.CLAW_TEST_FULL_DISK_AFTER_BYTES || 0);
const watched = new Set();

const { openSync, closeSync, writeSync } = fs;
fs.openSync = function (path, ...rest) {
  const fd = openSync.call(this, path, ...rest);
  if (pattern.test(String(path))) watched.add(fd);
  return fd;
};
fs.closeSync = function (fd) {
  watched.delete(fd);
  return closeSync.call(this, fd);
};
fs.writeSync = function (fd, data, ...rest) {
  if (!watched.has(fd)) return writeSync.call(this, fd, data, ...rest);
  if (room <= 0) {
    const err = new Error('ENOSPC: no space left on device, write');
    Object.assign(err, { errno: -28, code: 'ENOSPC', syscall: 'write' });
    throw err;
  }
  // writeSync(fd, buffer, offset?, length?, position?) or writeSync(fd, string, position?, encoding?)
  const buffer = typeof data === 'string' ? Buffer.from(data, typeof rest[1] === 'string' ? rest[1] : 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const offset = typeof data === 'string' ? 0 : (rest[0] ?? 0);
  const length = typeof data === 'string' ? buffer.length : (rest[1] ?? buffer.length - offset);
  const n = Math.min(length, room);
  room -= n;
  return writeSync.call(this, fd, buffer, offset, n);
};
syncBuiltinESMExports();
