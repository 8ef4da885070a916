import { Position, sharedLookUp, sharedProgress, waitUntilApplied, type Progress } from './caught-up';

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

describe('the caught-up wait', () => {
  it('resolves once the position reaches the sequence, at once when it already has; false after the timeout', async () => {
    const p = new Position(3);
    expect(await waitUntilApplied(p, 3, 0)).toBe(true);
    let reached: boolean | undefined;
    void waitUntilApplied(p, 5, 1000).then((r) => (reached = r));
    p.advance(4);
    await tick();
    expect(reached).toBeUndefined();
    p.advance(5);
    await tick();
    expect(reached).toBe(true);
    const started = Date.now();
    expect(await waitUntilApplied(p, 6, 50)).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('a shared read model counts what other processes applied (its checkpoint), read again while it waits', async () => {
    let checkpoint = 0;
    let reads = 0;
    const local = new Position(1);
    const shared: Progress = { position: () => local.position(), onAdvance: (l) => local.onAdvance(l), shared: async () => (reads++, checkpoint) };
    setTimeout(() => (checkpoint = 7), 60);
    expect(await waitUntilApplied(shared, 7, 2000)).toBe(true);
    expect(reads).toBeGreaterThan(1);
    expect(local.position()).toBe(1);
    // not consuming here at all (yet): the checkpoint alone
    expect(
      await waitUntilApplied(
        sharedProgress(async () => checkpoint),
        7,
        100,
      ),
    ).toBe(true);
    expect(
      await waitUntilApplied(
        sharedProgress(async () => checkpoint),
        8,
        100,
      ),
    ).toBe(false);
  });

  it('concurrent callers share look-ups, and nobody is answered with a look-up sent before it arrived', async () => {
    const sent: Array<(n: number) => void> = [];
    const lookUp = sharedLookUp(() => new Promise<number>((resolve) => sent.push(resolve)));
    const first = lookUp();
    const second = lookUp(); // arrives while the first look-up is in flight: waits for the next one
    const third = lookUp();
    expect(sent).toHaveLength(1);
    sent[0](1);
    expect(await first).toBe(1);
    await tick();
    expect(sent).toHaveLength(2); // one more look-up, shared by the second and third callers
    sent[1](2);
    expect(await Promise.all([second, third])).toEqual([2, 2]);
  });
});
