// The agent's work on its jobs, keyed by job: one reconcile at a time per job, in the order asked,
// jobs in parallel. A reconcile reads the job's latest decision when it starts, so a request made
// while one is already waiting to start adds nothing (the waiting one will see the newer decision):
// a burst of assignment events for a job costs at most the run in flight plus one.
import PQueue from 'p-queue';

export class JobWorkQueue {
  private readonly queues = new Map<string, PQueue>();

  constructor(
    private readonly reconcile: (job: string) => Promise<void>,
    private readonly onError: (job: string, error: unknown) => void,
  ) {}

  schedule(job: string): void {
    let queue = this.queues.get(job);
    if (!queue) {
      queue = new PQueue({ concurrency: 1 });
      const created = queue;
      // A job removed for good leaves no queue behind; a later request makes a new one, in order,
      // since this one has nothing left to run.
      created.on('idle', () => {
        if (this.queues.get(job) === created) this.queues.delete(job);
      });
      this.queues.set(job, created);
    }
    if (queue.size > 0) return;
    queue.add(() => this.reconcile(job)).catch((error: unknown) => this.onError(job, error));
  }

  /** Resolves once every job's queue has run out of work (the agent closing waits for this). */
  async onIdle(): Promise<void> {
    for (;;) {
      const busy = [...this.queues.values()].filter((queue) => queue.size > 0 || queue.pending > 0);
      if (busy.length === 0) return;
      await Promise.all(busy.map((queue) => queue.onIdle()));
    }
  }
}
