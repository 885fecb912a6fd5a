import { describe, expect, it } from '@jest/globals';
import { GroupCommit, type Outcome } from './group-commit.js';

/** A commit function that records its groups and waits until released, to hold a lane in flight. */
function recorder(outcome: (job: number) => Outcome<string> = (job) => ({ ok: true, value: `done ${job}` })) {
  const groups: number[][] = [];
  const pending: Array<() => void> = [];
  const commit = (_key: string, jobs: number[]) =>
    new Promise<Outcome<string>[]>((resolve) => {
      groups.push(jobs);
      pending.push(() => resolve(jobs.map(outcome)));
    });
  const releaseAll = async () => {
    while (pending.length) {
      pending.shift()!();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { groups, commit, releaseAll };
}

describe('GroupCommit', () => {
  it('runs the first job at once and takes the jobs that queued meanwhile as one group, within the bound', async () => {
    const r = recorder();
    const queue = new GroupCommit(r.commit, { max: 3, size: () => 1 });
    const results = Promise.all([1, 2, 3, 4, 5].map((job) => queue.submit('t', job)));
    await r.releaseAll();
    expect(await results).toEqual(['done 1', 'done 2', 'done 3', 'done 4', 'done 5']);
    expect(r.groups).toEqual([[1], [2, 3, 4], [5]]);
  });

  it('bounds a group by size and by job count; a larger job goes alone', async () => {
    const r = recorder();
    const queue = new GroupCommit(r.commit, { max: 10, size: (job) => job, maxJobs: 2 });
    const results = Promise.all([1, 4, 4, 1, 1, 1, 20, 2].map((job) => queue.submit('t', job)));
    await r.releaseAll();
    await results;
    expect(r.groups).toEqual([[1], [4, 4], [1, 1], [1], [20], [2]]);
  });

  it('keys are independent, and up to `lanes` commits of one key are in flight', async () => {
    const r = recorder();
    const queue = new GroupCommit(r.commit, { max: 100, size: () => 1, lanes: 2 });
    const results = Promise.all([...[1, 2, 3, 4].map((job) => queue.submit('a', job)), queue.submit('b', 9)]);
    expect(r.groups).toEqual([[1], [2], [9]]);
    await r.releaseAll();
    await results;
    expect(r.groups).toEqual([[1], [2], [9], [3, 4]]);
  });

  it('a lane beyond the first opens only for `laneAt` of queued size: small jobs share the next commit', async () => {
    const r = recorder();
    const queue = new GroupCommit(r.commit, { max: 100, size: (job) => job, lanes: 3, laneAt: 10 });
    // Small jobs queue behind the lane in flight until they amount to 10; then a second lane takes them.
    const small = Promise.all([1, 2, 3, 4].map((job) => queue.submit('a', job)));
    expect(r.groups).toEqual([[1]]);
    const more = queue.submit('a', 5);
    expect(r.groups).toEqual([[1], [2, 3, 4, 5]]);
    // A large job opens a lane of its own at once (the third and last).
    const large = queue.submit('a', 50);
    expect(r.groups).toEqual([[1], [2, 3, 4, 5], [50]]);
    const queued = queue.submit('a', 60);
    expect(r.groups).toHaveLength(3);
    await r.releaseAll();
    await Promise.all([small, more, large, queued]);
    expect(r.groups).toEqual([[1], [2, 3, 4, 5], [50], [60]]);
  });

  it('a job that failed alone gets its own error; a failed commit fails every job of its group only', async () => {
    const own = new Error('job 2 failed');
    const r = recorder((job) => (job === 2 ? { ok: false, error: own } : { ok: true, value: `done ${job}` }));
    let calls = 0;
    const queue = new GroupCommit<number, string>(
      (key, jobs) => {
        calls += 1;
        return calls === 3 ? Promise.reject(new Error('commit failed')) : r.commit(key, jobs);
      },
      { max: 2, size: () => 1 },
    );
    const settled = Promise.allSettled([1, 2, 3, 4, 5, 6].map((job) => queue.submit('t', job)));
    await r.releaseAll();
    await new Promise((resolve) => setImmediate(resolve));
    await r.releaseAll();
    expect(
      (await settled).map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message)),
    ).toEqual(['done 1', 'job 2 failed', 'done 3', 'commit failed', 'commit failed', 'done 6']);
  });
});
