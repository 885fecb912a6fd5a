import cliProgress from 'cli-progress';
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

/**
 * A progress bar on stderr (`<what> [bar] done/total label`) while `work` runs, only on a TTY and never when
 * `quiet` (stdout carries JSON or a document), so scripts and pipes see nothing but the command's output.
 */
export async function withProgressBar<T>(
  what: string,
  quiet: boolean,
  work: (update: (done: number, total: number, label: string) => void) => Promise<T>,
): Promise<T> {
  if (quiet || !process.stderr.isTTY) return work(() => undefined);
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${what} [{bar}] {value}/{total} {label}`,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(1, 0, { label: '' });
  try {
    return await work((done, total, label) => {
      bar.setTotal(Math.max(1, total));
      bar.update(done, { label: label.length > 40 ? `${label.slice(0, 39)}…` : label });
    });
  } finally {
    bar.stop();
  }
}
