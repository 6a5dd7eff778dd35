import { MemoryStore } from '../../src/limits/memory-store.js';
import { fakeClock } from './fake-clock.js';
import { storeContract } from './store-contract.js';

const clock = fakeClock();
storeContract('memory (off)', { create: async () => new MemoryStore({ now: clock.now }), ...clock, slackMs: 0 });
