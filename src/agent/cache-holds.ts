// Which cache entries this process's preparations are using now, with how many use each. Pruning
// a content-addressed cache asks here first: an entry a preparation is fetching, unpacking or
// copying from must stay, however long that preparation waits on a slow server.
export class CacheHolds {
  private readonly holders = new Map<string, number>();

  hold(entry: string): void {
    this.holders.set(entry, (this.holders.get(entry) ?? 0) + 1);
  }

  /** One holder is done: the entry may be pruned again once no holder is left. */
  release(entry: string): void {
    const left = (this.holders.get(entry) ?? 0) - 1;
    if (left > 0) this.holders.set(entry, left);
    else this.holders.delete(entry);
  }

  has(entry: string): boolean {
    return this.holders.has(entry);
  }
}
