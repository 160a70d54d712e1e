// Waiting on a condition with a deadline: the only way tests wait. No sleep-and-hope.

export interface WaitOptions {
  /** give up after this long (ms) */
  timeout?: number;
  /** poll every this many ms */
  interval?: number;
  /** said in the error when the deadline passes */
  message?: string;
}

/** Polls `probe` until it returns something other than undefined/false, and returns that. */
export async function waitFor<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  { timeout = 10_000, interval = 20, message = 'condition' }: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeout;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeout} ms waiting for ${message}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
