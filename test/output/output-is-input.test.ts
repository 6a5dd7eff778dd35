/**
 * `-o` naming the input — by the same path, another spelling, a symlink or a hard link, or the file
 * stdin is redirected from — is exit 2 before anything is touched or sent, in both modes and with
 * `--fresh`; the input stays byte-identical.
 */
import { linkSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, runShell, writeItems } from '../helpers/cli.js';
import { useSimulator } from '../helpers/simulator.js';

const fx = useSimulator();
const MODEL = ['--model', 'claude-haiku-4-5', '--max-tokens', '16'];

async function expectRefused(args: string[] | string, input: string) {
  const before = readFileSync(input);
  fx.sim.resetCounters();
  const r = typeof args === 'string' ? await runShell(args, { env: fx.env() }) : await runCli(args, { env: fx.env() });
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(/writing results there would destroy the input — give another -o/);
  expect(readFileSync(input).equals(before)).toBe(true);
  expect(fx.sim.counters().requests).toBe(0);
  expect(fx.sim.counters().batchesCreated).toBe(0);
  return r;
}

describe('an output that is the input', () => {
  it('--fresh -o INPUT: exit 2, the input byte-identical, nothing sent', async () => {
    const dir = fx.newDir();
    const input = writeItems(dir, 3);
    const r = await expectRefused(['run', input, '--fresh', '-o', input, ...MODEL, '--realtime'], input);
    expect(r.stderr).toContain(`-o ${input} is the input, ${input} (the same file)`);
  });

  it('without --fresh too (its lines would be taken for damaged results)', async () => {
    const dir = fx.newDir();
    const input = writeItems(dir, 3);
    await expectRefused(['run', input, '-o', input, ...MODEL, '--realtime'], input);
  });

  it('through a symlink to the input', async () => {
    const dir = fx.newDir();
    const input = writeItems(dir, 3);
    const link = join(dir, 'link.jsonl');
    symlinkSync(input, link);
    const r = await expectRefused(['run', input, '--fresh', '-o', link, ...MODEL, '--realtime'], input);
    expect(r.stderr).toMatch(/under another name or through a link/);
  });

  it('through a hard link to the input', async () => {
    const dir = fx.newDir();
    const input = writeItems(dir, 3);
    const hard = join(dir, 'hard.jsonl');
    linkSync(input, hard);
    await expectRefused(['run', input, '--fresh', '-o', hard, ...MODEL, '--realtime'], input);
  });

  it('through another spelling of the path (./dir/../items.jsonl)', async () => {
    const dir = fx.newDir();
    const input = writeItems(dir, 3);
    await expectRefused(['run', input, '--fresh', '-o', join(dir, 'state', '..', 'items.jsonl'), ...MODEL, '--realtime'], input);
  });

  it('with --batch-api (and through a symlink)', async () => {
    const dir = fx.newDir();
    const input = writeItems(dir, 3);
    const link = join(dir, 'link.jsonl');
    symlinkSync(input, link);
    await expectRefused(['run', input, '--fresh', '-o', input, ...MODEL, '--batch-api'], input);
    await expectRefused(['run', link, '--fresh', '-o', input, ...MODEL, '--batch-api'], input);
  });

  it('with --dry-run too: the command as typed would destroy the input', async () => {
    const dir = fx.newDir();
    const input = writeItems(dir, 3);
    await expectRefused(['run', input, '--fresh', '-o', input, ...MODEL, '--dry-run'], input);
  });

  it('-o naming the file stdin is redirected from (run - -o items.jsonl < items.jsonl)', async () => {
    const dir = fx.newDir();
    const input = writeItems(dir, 3);
    const r = await expectRefused(`claw run - --fresh -o ${JSON.stringify(input)} ${MODEL.join(' ')} --realtime < ${JSON.stringify(input)}`, input);
    expect(r.stderr).toMatch(/is the file stdin is redirected from/);
  });
});
