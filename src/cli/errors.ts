/** A mistake in how the command was called: printed as one line, exit 2, never a stack trace. */
export class UsageError extends Error {
  override name = 'UsageError';
}
