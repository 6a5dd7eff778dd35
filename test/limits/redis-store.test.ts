import { RedisStore } from '../../src/limits/redis-store.js';
import { useRedisServer } from '../helpers/redis-server.js';
import { fakeClock } from './fake-clock.js';
import { storeContract } from './store-contract.js';

const redis = useRedisServer();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// On Redis's own clock (TIME), as in production: figures may be off by the time between two calls.
storeContract('Redis, server clock', { create: () => RedisStore.connect({ url: redis.server.url }), sibling: () => RedisStore.connect({ url: redis.server.url }), advance: sleep, slackMs: 60 });

// The Lua port held to the exact figures of bucket-math.ts, on a clock the test moves.
const clock = fakeClock();
const onFakeClock = () => RedisStore.connect({ url: redis.server.url, now: clock.now });
storeContract('Redis, fake clock', { create: onFakeClock, sibling: onFakeClock, ...clock, slackMs: 0 });
