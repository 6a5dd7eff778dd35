/** The four ways an item can end, as the Message Batches API names them. */
export type ResultType = 'succeeded' | 'errored' | 'expired' | 'canceled';

export const RESULT_TYPES: readonly ResultType[] = ['succeeded', 'errored', 'expired', 'canceled'];

/** What the results file holds once opened (after any repair and compaction). */
export interface ExistingResults {
  /** custom_id → how it ended, one entry per id. */
  byId: Map<string, ResultType>;
  /** Lines removed by compaction: non-succeeded lines in 'succeeded' mode, and duplicate ids. */
  dropped: number;
  /** A partial last line (a crash mid-write) was cut off; its item counts as not done. */
  repairedTornLine: boolean;
}
