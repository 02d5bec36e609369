/**
 * Groups concurrent calls into batches: calls that arrive while a batch is running go into the next one, and
 * each caller's promise settles with its own item's result. /v1/decide uses it so that one control-plane
 * transaction (locks, ledger versions, budget counters, inserts) serves every decision of an event-loop tick.
 */
export class BatchQueue<In, Out> {
  private queue: Array<{ item: In; resolve(o: Out): void; reject(e: unknown): void }> = []
  private running = 0
  private scheduled = false

  constructor(
    private readonly run: (items: In[]) => Promise<Out[]>,
    private readonly opts: { maxBatch: number; concurrency: number },
  ) {}

  add(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ item, resolve, reject })
      this.schedule()
    })
  }

  private schedule() {
    if (this.scheduled || this.running >= this.opts.concurrency || !this.queue.length) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      this.drain()
    })
  }

  private drain() {
    while (this.running < this.opts.concurrency && this.queue.length) {
      const batch = this.queue.splice(0, this.opts.maxBatch)
      this.running++
      void this.run(batch.map((w) => w.item))
        .then(
          (out) => batch.forEach((w, i) => w.resolve(out[i])),
          (error) => batch.forEach((w) => w.reject(error)),
        )
        .finally(() => {
          this.running--
          this.schedule()
        })
    }
  }

  /** Nothing queued or running. */
  get idle(): boolean {
    return !this.queue.length && !this.running
  }

  /** Resolves once nothing is queued or running. */
  async flush(): Promise<void> {
    while (!this.idle) await new Promise((r) => setTimeout(r, 5))
  }
}
