/**
 * Requests waiting for the budget, served in turn between clients: one FIFO per client and a
 * round-robin over the clients that have something waiting. A client that sends 1,000 requests at
 * once gets every other turn next to a client that sends one, never the next 1,000.
 */
export class FairQueue<T> {
  private readonly queues = new Map<string, T[]>();
  /** Clients with something waiting, in the order their turns come. */
  private ring: string[] = [];
  private cursor = 0;
  private count = 0;

  /** Items waiting, over every client. */
  get size(): number {
    return this.count;
  }

  /** Items `client` has waiting. */
  sizeOf(client: string): number {
    return this.queues.get(client)?.length ?? 0;
  }

  /** Adds `item` at the back of its client's line. */
  push(client: string, item: T): void {
    this.lineOf(client).push(item);
    this.count += 1;
  }

  /** Adds `item` at the front of its client's line (a request that had its turn and must go again). */
  unshift(client: string, item: T): void {
    this.lineOf(client).unshift(item);
    this.count += 1;
  }

  /** Takes the next item: the oldest of the client whose turn it is; the turn then passes on. */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    if (this.cursor >= this.ring.length) this.cursor = 0;
    const client = this.ring[this.cursor]!;
    const line = this.queues.get(client)!;
    const item = line.shift()!;
    this.count -= 1;
    if (line.length === 0) this.drop(client, this.cursor);
    else this.cursor += 1;
    return item;
  }

  /** Removes `item` (its client gave up while it waited). Returns whether it was there. */
  remove(client: string, item: T): boolean {
    const line = this.queues.get(client);
    const at = line?.indexOf(item) ?? -1;
    if (!line || at < 0) return false;
    line.splice(at, 1);
    this.count -= 1;
    if (line.length === 0) this.drop(client, this.ring.indexOf(client));
    return true;
  }

  private lineOf(client: string): T[] {
    let line = this.queues.get(client);
    if (!line) {
      line = [];
      this.queues.set(client, line);
      // A newcomer's turn comes after the clients already waiting, not before them.
      this.ring.splice(this.cursor, 0, client);
      this.cursor += 1;
    }
    return line;
  }

  private drop(client: string, at: number): void {
    this.queues.delete(client);
    this.ring.splice(at, 1);
    if (at < this.cursor) this.cursor -= 1;
  }
}
