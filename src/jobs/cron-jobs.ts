import cron, { type ScheduledTask } from 'node-cron';
import { InputError } from '../domain/errors.js';

export interface JobSpec {
  name: string;
  /** Cron expression (five fields, six with seconds); absent turns the job off (config's "off" is mapped by the caller). */
  expression?: string;
  run: () => Promise<unknown>;
}

export interface ScheduledJobs {
  /** Names of the jobs that were scheduled (not "off"). */
  names: string[];
  /** Runs a job now, as the schedule would (the admin API and the tests use it). */
  runNow(name: string): Promise<unknown>;
  /** Stops every schedule and waits for runs in progress. */
  stop(): Promise<void>;
}

/**
 * Schedules the background jobs with node-cron. Every expression is checked
 * before any job is scheduled, so a bad one fails the start with the job's
 * name rather than leaving half the jobs running. A run never overlaps the
 * previous run of the same job; a failure is reported and the schedule goes on.
 */
export function scheduleJobs(specs: readonly JobSpec[], options: { timezone?: string; onError: (job: string, error: unknown) => void }): ScheduledJobs {
  for (const spec of specs) {
    if (spec.expression !== undefined && !cron.validate(spec.expression)) {
      throw new InputError(`jobs.${spec.name}`, `${JSON.stringify(spec.expression)} is not a cron expression`);
    }
  }
  const inFlight = new Set<Promise<unknown>>();
  const byName = new Map(specs.map((s) => [s.name, s]));
  const run = (spec: JobSpec): Promise<unknown> => {
    const p = spec.run().catch((error: unknown) => {
      options.onError(spec.name, error);
      throw error;
    });
    inFlight.add(p);
    void p.catch(() => undefined).finally(() => inFlight.delete(p));
    return p;
  };
  const tasks: ScheduledTask[] = specs.flatMap((spec) =>
    spec.expression === undefined
      ? []
      : cron.schedule(spec.expression, () => run(spec).catch(() => undefined), {
        name: spec.name,
        noOverlap: true,
          ...(options.timezone ? { timezone: options.timezone } : {}),
        }),
  );
  return {
    names: specs.filter((s) => s.expression !== undefined).map((s) => s.name),
    runNow(name: string) {
      const spec = byName.get(name);
      if (!spec) throw new InputError('job', `no job ${JSON.stringify(name)} (jobs: ${[...byName.keys()].join(', ')})`);
      return run(spec);
    },
    async stop() {
      await Promise.all(tasks.map((t) => t.destroy()));
      await Promise.allSettled([...inFlight]);
    },
  };
}
