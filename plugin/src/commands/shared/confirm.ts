// Asking before something that cannot be undone, as kubectl delete
// --interactive does: the question on stderr (stdout stays the command's
// output), one line read from the terminal, only "y" or "yes" goes on.
import { createInterface } from 'node:readline';
import type { InStream, IOStreams } from '../../deps.ts';

/** One line typed on `input`, or undefined when it ends first (Ctrl-D) or cannot be read. */
async function readLine(input: InStream): Promise<string | undefined> {
  if (typeof input.on !== 'function') return undefined;
  const rl = createInterface({ input: input as NodeJS.ReadableStream, terminal: false });
  return new Promise<string | undefined>((resolve) => {
    rl.once('line', resolve);
    rl.once('close', () => resolve(undefined));
  }).finally(() => rl.close());
}

/** Whether the user at the terminal answers yes to `question`. */
export async function confirm(streams: IOStreams, question: string): Promise<boolean> {
  streams.err.write(`${question} (y/N): `);
  const answer = await readLine(streams.in);
  return answer !== undefined && /^y(es)?$/i.test(answer.trim());
}
