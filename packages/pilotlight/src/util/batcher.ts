export interface BatcherOptions {
  /** A batch this large is flushed at once. @default 1000 */
  readonly maxBatch?: number;
  /**
   * At most one flush in flight: calls made meanwhile wait for it and go together in the next one
   * (group commit). Under load, batches grow with the store's round trip instead of the number of
   * calls made in one turn of the event loop. @default false
   */
  readonly oneAtATime?: boolean;
}

/**
 * Collects the calls made during one turn of the event loop and hands them to `flush` together,
 * so that many jobs finishing at once cost one store round trip instead of one each.
 */
export function createBatcher<Input, Output>(
  flush: (inputs: Input[]) => Promise<Output[]>,
  { maxBatch = 1000, oneAtATime = false }: BatcherOptions = {},
): (input: Input) => Promise<Output> {
  let inputs: Input[] = [];
  let waiters: { resolve: (output: Output) => void; reject: (error: unknown) => void }[] = [];
  let flushing = false;

  const run = (): void => {
    if (inputs.length === 0 || (oneAtATime && flushing)) return; // already flushed, or waiting for the flush in flight
    const batch = inputs.length > maxBatch ? inputs.splice(0, maxBatch) : inputs;
    const batchWaiters = batch === inputs ? waiters : waiters.splice(0, maxBatch);
    if (batch === inputs) {
      inputs = [];
      waiters = [];
    }
    flushing = true;
    flush(batch)
      .then(
        (outputs) => batchWaiters.forEach((waiter, i) => waiter.resolve(outputs[i]!)),
        (error: unknown) => batchWaiters.forEach((waiter) => waiter.reject(error)),
      )
      .finally(() => {
        flushing = false;
        if (oneAtATime && inputs.length > 0) setImmediate(run);
      });
  };

  return (input) =>
    new Promise<Output>((resolve, reject) => {
      inputs.push(input);
      waiters.push({ resolve, reject });
      if (inputs.length === 1) setImmediate(run);
      else if (inputs.length >= maxBatch) run();
    });
}
