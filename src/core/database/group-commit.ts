/** How one job of a group came out: its value, or the error that failed that job alone. */
export type Outcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

/** Writes a group of jobs of one key in one transaction; one outcome per job, in order. Throws if the commit fails. */
export type CommitGroup<J, R> = (key: string, jobs: J[]) => Promise<Outcome<R>[]>;

/**
 * Bounds a group: at most `max` of the jobs' `size` go into one commit (a single larger job goes alone), and at
 * most `maxJobs` jobs; at most `lanes` commits of one key in flight at once (1 when absent). A lane beyond the
 * first opens only when the jobs queued for it amount to at least `laneAt` of size (any when absent): small jobs
 * then wait for the lane in flight and share its next commit, large ones get lanes of their own.
 */
export interface GroupBound<J> {
  max: number;
  size(job: J): number;
  maxJobs?: number;
  lanes?: number;
  laneAt?: number;
}

interface Lanes<J, R> {
  jobs: Queued<J, R>[];
  /** The size of `jobs`. */
  queued: number;
  running: number;
}

interface Queued<J, R> {
  job: J;
  resolve(value: R): void;
  reject(error: unknown): void;
}

/**
 * Group commit, per key (a tenant) and process. One commit at a time runs per key (or up to `lanes`); the jobs
 * that arrive while every lane is in flight queue up, and the next lane free takes them all (up to the bound) in
 * one transaction. For writes that all end on one serial point (a tenant's audit chain head, held to commit) this
 * trades N commits, each waiting for the one before, for one; and a busy key holds one pool connection per
 * lane, not one per waiting request. More lanes let the part of the writes before that point run in parallel.
 *
 * Guarantee to each caller: its promise settles only after the commit that holds its job has ended. It resolves
 * only if that commit succeeded (the job is durable) and fails with the job's own error if the job failed alone
 * (`commit` reports it as an outcome); if the commit fails, every job of the group fails with that error.
 */
export class GroupCommit<J, R> {
  private readonly keys = new Map<string, Lanes<J, R>>();

  constructor(
    private readonly commit: CommitGroup<J, R>,
    private readonly bound: GroupBound<J>,
  ) {}

  submit(key: string, job: J): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      let lanes = this.keys.get(key);
      if (!lanes) {
        lanes = { jobs: [], queued: 0, running: 0 };
        this.keys.set(key, lanes);
      }
      lanes.jobs.push({ job, resolve, reject });
      lanes.queued += this.bound.size(job);
      if (
        lanes.running < (this.bound.lanes ?? 1) &&
        (lanes.running === 0 || lanes.queued >= (this.bound.laneAt ?? 0))
      ) {
        lanes.running += 1;
        void this.drain(key, lanes);
      }
    });
  }

  /** Commits the key's queued jobs, a group at a time, until none is left; the last lane out drops the key. */
  private async drain(key: string, lanes: Lanes<J, R>): Promise<void> {
    const queue = lanes.jobs;
    while (queue.length) {
      const group: Queued<J, R>[] = [];
      let size = 0;
      const maxJobs = this.bound.maxJobs ?? Infinity;
      while (queue.length) {
        const next = this.bound.size(queue[0].job);
        if (group.length > 0 && (group.length >= maxJobs || size + next > this.bound.max)) break;
        group.push(queue.shift()!);
        size += next;
      }
      lanes.queued -= size;
      let outcomes: Outcome<R>[];
      try {
        outcomes = await this.commit(
          key,
          group.map((queued) => queued.job),
        );
        if (outcomes.length !== group.length) throw new Error('group commit: one outcome per job expected');
      } catch (error) {
        for (const queued of group) queued.reject(error);
        continue;
      }
      group.forEach((queued, i) => {
        const outcome = outcomes[i];
        if (outcome.ok) queued.resolve(outcome.value);
        else queued.reject(outcome.error);
      });
    }
    lanes.running -= 1;
    if (lanes.running === 0) this.keys.delete(key);
  }
}
