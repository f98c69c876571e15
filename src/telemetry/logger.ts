// The daemon's logger: pino JSON lines on stdout, one object per event, so
// that both people (with pino-pretty) and log shippers read them.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, name = 'pdpilot'): Logger {
  return pino({ name, level });
}
