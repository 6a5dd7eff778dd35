/**
 * Tells the store, every few seconds, that this process is drawing from an account's budgets, so
 * `claw-batch limits` can list who shares them and the fallback knows its fair share. A process
 * counts as active while it was seen within three heartbeats; one that dies simply ages out, and
 * a clean stop removes it at once.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { LimitStore, PeerInfo } from './limit-store.js';

/** Heartbeats a process may miss before it no longer counts as sharing. */
export const MISSED_HEARTBEATS = 3;
/** Default interval between heartbeats. */
export const HEARTBEAT_EVERY_MS = 2000;

/** This process as the store lists it: id `<host>:<pid>:<random>`. */
export function thisProcess(command: string, modelClasses: string[] = []): PeerInfo {
  const host = hostname();
  return { id: `${host}:${process.pid}:${randomBytes(3).toString('hex')}`, host, pid: process.pid, command, modelClasses };
}

export interface Heartbeat {
  /** Processes seen sharing the account at the last heartbeat, this one included (1 until then). */
  readonly processes: number;
  /** Resolves after the first heartbeat with the number of processes seen. */
  readonly first: Promise<number>;
  /** Stops beating and removes this process from the store's list. */
  stop(): Promise<void>;
}

/**
 * Beats now and every `everyMs` (default 2000 ms). `peer.modelClasses` is read at each beat, so the
 * caller may add classes as it starts using them. A failed beat is skipped (a FallbackStore never
 * fails; a bare store may).
 */
export function startHeartbeat(store: LimitStore, account: string, peer: PeerInfo, everyMs = HEARTBEAT_EVERY_MS): Heartbeat {
  let processes = 1;
  let inFlight: Promise<unknown> = Promise.resolve();
  const beat = async (): Promise<number> => {
    try {
      processes = await store.heartbeat(account, peer, MISSED_HEARTBEATS * everyMs);
    } catch {
      // the next beat tries again
    }
    return processes;
  };
  const first = beat();
  inFlight = first;
  const timer = setInterval(() => {
    inFlight = beat();
  }, everyMs);
  timer.unref();
  let stopped: Promise<void> | undefined;
  return {
    get processes() {
      return processes;
    },
    first,
    stop() {
      stopped ??= (async () => {
        clearInterval(timer);
        await inFlight;
        try {
          await store.leave(account, peer.id);
        } catch {
          // it ages out
        }
      })();
      return stopped;
    },
  };
}
