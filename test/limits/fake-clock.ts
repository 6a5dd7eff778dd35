/** A clock a test moves by hand, starting at a realistic epoch time. */
export interface FakeClock {
  now: () => number;
  advance: (ms: number) => Promise<void>;
  stepBack: (ms: number) => void;
}

export function fakeClock(start = 1_790_000_000_000): FakeClock {
  let t = start;
  return {
    now: () => t,
    advance: async (ms) => {
      t += ms;
    },
    stepBack: (ms) => {
      t -= ms;
    },
  };
}
