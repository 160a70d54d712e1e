import { UsageError } from './errors.js';

export async function checkCommand(_argv: string[]): Promise<number> {
  throw new UsageError('check: not implemented yet');
}
