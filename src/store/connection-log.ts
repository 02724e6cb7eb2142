// What a service logs about its etcd connection: one line when it is lost, a reminder at most every
// `reminderMs` while it stays lost (saying for how long), one line when it is back. Fed by a watch's
// `onConnectionChange`; repeated reports of the same state are ignored, so an outage costs three or
// so lines however the client flaps underneath.

/** The part of a pino logger this needs. */
export interface ConnectionLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface ConnectionLogOptions {
  /** What the reader should know goes on meanwhile, e.g. "jobs keep running". */
  readonly consequence?: string;
  /** Default 30 s. */
  readonly reminderMs?: number;
}

export interface ConnectionLog {
  /** Pass as `onConnectionChange`. */
  report(connected: boolean): void;
  /** Stops the reminders and ignores later reports (a service shutting down while etcd is down). */
  close(): void;
}

export function createConnectionLog(logger: ConnectionLogger, options: ConnectionLogOptions = {}): ConnectionLog {
  const { reminderMs = 30_000 } = options;
  const consequence = options.consequence ? `; ${options.consequence}` : '';
  let downSince: number | undefined;
  let reminder: NodeJS.Timeout | undefined;
  let closed = false;

  const stopReminders = () => {
    clearInterval(reminder);
    reminder = undefined;
  };

  return {
    report(connected) {
      if (closed || connected === (downSince === undefined)) return;
      if (!connected) {
        const since = Date.now();
        downSince = since;
        logger.warn({ event: 'etcd_disconnected' }, `etcd unreachable${consequence}`);
        reminder = setInterval(() => {
          const downMs = Date.now() - since;
          logger.warn({ event: 'etcd_still_disconnected', downMs }, `etcd still unreachable after ${formatSeconds(downMs)}${consequence}`);
        }, reminderMs);
        reminder.unref();
        return;
      }
      const downMs = Date.now() - downSince!;
      downSince = undefined;
      stopReminders();
      logger.info({ event: 'etcd_connected', downMs }, `etcd reachable again after ${formatSeconds(downMs)}`);
    },
    close() {
      closed = true;
      stopReminders();
    },
  };
}

function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}
