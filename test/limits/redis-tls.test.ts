/**
 * `rediss://` with a password against a real TLS-only redis-server whose certificate comes from a
 * CA made here (openssl): the real CLI trusts it through NODE_EXTRA_CA_CERTS, and refuses it, exit
 * 2, without.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { removeDir, runCli, tempDir } from '../helpers/cli.js';
import { useRedisServer } from '../helpers/redis-server.js';

const dir = tempDir('claw-batch-tls-');
afterAll(() => removeDir(dir));
const f = (name: string) => join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=claw-batch test CA');
openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1');
writeFileSync(f('san.cnf'), 'subjectAltName=IP:127.0.0.1\n');
openssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.crt'), '-days', '2', '-extfile', f('san.cnf'));

const redis = useRedisServer({ password: 'tls-pass', tls: { cert: f('server.crt'), key: f('server.key') } });
const env = { ANTHROPIC_API_KEY: 'sk-ant-api03-tls-test-0123456789', CLAW_BATCH_STATE_DIR: join(dir, 'state') };

it('shares through rediss:// with a password once the CA is trusted, and refuses an untrusted certificate', async () => {
  const masked = redis.server.url.replace(':tls-pass@', ':***@');
  expect(masked).toMatch(/^rediss:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0$/);
  const trusted = await runCli(['limits', '--shared-limits', redis.server.url], { env: { ...env, NODE_EXTRA_CA_CERTS: f('ca.crt') } });
  expect(trusted.stderr).toBe('');
  expect(trusted.code).toBe(0);
  expect(trusted.stdout).toContain(`shared through ${masked}`);
  const untrusted = await runCli(['limits', '--shared-limits', redis.server.url], { env });
  expect(untrusted.code).toBe(2);
  expect(untrusted.stderr).toMatch(new RegExp(`^claw-batch: cannot reach the shared limit store at ${masked.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: .*certificate`));
  expect(untrusted.stderr + trusted.stdout).not.toContain('tls-pass');
});
