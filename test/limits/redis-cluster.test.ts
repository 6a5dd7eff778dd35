/**
 * The Redis store on a Redis Cluster (one node owning every slot, which still refuses a script
 * whose keys sit in two slots): the hash tags keep each script's keys together.
 */
import { expect, it } from 'vitest';
import { RedisStore } from '../../src/limits/redis-store.js';
import { useRedisServer } from '../helpers/redis-server.js';
import { fakeClock } from './fake-clock.js';
import { storeContract } from './store-contract.js';

const redis = useRedisServer({ cluster: true });
const clock = fakeClock();
const open = () => RedisStore.connect({ url: redis.server.url, now: clock.now });

storeContract('Redis Cluster', { create: open, sibling: open, ...clock, slackMs: 0 });

it('refuses a database other than 0 on a cluster', async () => {
  await expect(RedisStore.connect({ url: redis.server.url.replace(/\/0$/, '/3') })).rejects.toThrow('a Redis Cluster has only database 0, not 3');
});

it('is a cluster that refuses one script over keys of two slots (so the contract above proves the hash tags)', async () => {
  const { Cluster } = await import('ioredis');
  const cluster = new Cluster([{ host: '127.0.0.1', port: redis.server.port }]);
  await expect(cluster.eval('return 1', 2, 'claw-batch:{a}:x', 'claw-batch:{b}:y')).rejects.toThrow(/CROSSSLOT/);
  expect(await cluster.eval('return 1', 2, 'claw-batch:{a}:x', 'claw-batch:{a}:y')).toBe(1);
  await cluster.quit();
});
