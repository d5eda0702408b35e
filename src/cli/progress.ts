/** Shows progress events on stderr: a bar on a terminal, one line per stage otherwise. */
import cliProgress from 'cli-progress';
import type { ProgressCallback, ProgressEvent } from '../core/progress.js';

export function progressReporter(options: { quiet: boolean; stream?: NodeJS.WriteStream }): {
  callback: ProgressCallback;
  stop: () => void;
} {
  const stream = options.stream ?? process.stderr;
  if (options.quiet) return { callback: () => {}, stop: () => {} };
  if (!stream.isTTY) {
    return {
      callback: (event: ProgressEvent) => {
        if (event.type === 'stage') stream.write(`${event.message}\n`);
        else if (event.type === 'epoch-end')
          stream.write(
            `  ${event.stage} epoch ${event.epoch + 1}/${event.epochs}: loss ${event.loss.toFixed(4)}, ` +
              `accuracy ${event.accuracy.toFixed(4)}\n`,
          );
      },
      stop: () => {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: '  {stage} epoch {epoch} |{bar}| {value}/{total} batches  loss {loss}  eta {eta_formatted}',
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let active = false;
  const stop = (): void => {
    if (active) bar.stop();
    active = false;
  };
  return {
    callback: (event: ProgressEvent) => {
      switch (event.type) {
        case 'stage':
          stop();
          stream.write(`${event.message}\n`);
          break;
        case 'epoch-start':
          stop();
          bar.start(event.batches, 0, { stage: event.stage, epoch: `${event.epoch + 1}/${event.epochs}`, loss: '-' });
          active = true;
          break;
        case 'batch':
          if (active && (event.batch % 8 === 0 || event.batch === event.batches - 1))
            bar.update(event.batch + 1, { loss: event.loss.toFixed(4) });
          break;
        case 'epoch-end':
          stop();
          stream.write(
            `  ${event.stage} epoch ${event.epoch + 1}/${event.epochs}: loss ${event.loss.toFixed(4)}, ` +
              `accuracy ${event.accuracy.toFixed(4)}\n`,
          );
          break;
        case 'done':
          stop();
          break;
      }
    },
    stop,
  };
}
