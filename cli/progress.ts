import ora from 'ora';

/**
 * Shows a spinner on stderr while `work` runs, only on a TTY and never in --json mode,
 * so scripts and pipes see nothing but the command's output.
 */
export async function withSpinner<T>(
  text: string,
  json: boolean | undefined,
  work: () => Promise<T>,
): Promise<T> {
  if (json || !process.stderr.isTTY) return work();
  const spinner = ora({ text, stream: process.stderr }).start();
  try {
    const result = await work();
    spinner.stop();
    return result;
  } catch (error) {
    spinner.fail();
    throw error;
  }
}
