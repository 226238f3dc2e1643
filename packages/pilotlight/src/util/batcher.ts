/**
 * Collects the calls made during one turn of the event loop and hands them to `flush` together,
 * so that many jobs finishing at once cost one store round trip instead of one each.
 */
export function createBatcher<Input, Output>(
  flush: (inputs: Input[]) => Promise<Output[]>,
  maxBatch = 1000,
): (input: Input) => Promise<Output> {
  let inputs: Input[] = [];
  let waiters: { resolve: (output: Output) => void; reject: (error: unknown) => void }[] = [];

  const run = (): void => {
    if (inputs.length === 0) return; // already flushed when the batch filled up
    const batch = inputs;
    const batchWaiters = waiters;
    inputs = [];
    waiters = [];
    flush(batch).then(
      (outputs) => batchWaiters.forEach((waiter, i) => waiter.resolve(outputs[i]!)),
      (error: unknown) => batchWaiters.forEach((waiter) => waiter.reject(error)),
    );
  };

  return (input) =>
    new Promise<Output>((resolve, reject) => {
      inputs.push(input);
      waiters.push({ resolve, reject });
      if (inputs.length === 1) setImmediate(run);
      else if (inputs.length >= maxBatch) run();
    });
}
