import { UsageError } from './errors.js';

export async function runCommand(_argv: string[]): Promise<number> {
  throw new UsageError('run: not implemented yet');
}
