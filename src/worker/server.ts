// Starts one worker: engine (weights resident from here on), host, HTTP.
import type { FastifyInstance } from 'fastify';
import { buildWorkerApp } from './app.js';
import { WorkerEngine } from './engine.js';
import { WorkerHost } from './host.js';
import { WorkerMetrics } from './metrics.js';
import { nativeConfig, type WorkerOptions } from './options.js';

export interface RunningWorker {
  app: FastifyInstance;
  host: WorkerHost;
  url: string;
  close(): Promise<void>;
}

export async function startWorker(options: WorkerOptions, listen: { host: string; port: number; logger?: boolean }): Promise<RunningWorker> {
  const engine = new WorkerEngine(nativeConfig(options));
  const metrics = new WorkerMetrics(options.workerId, options.role, () => engine.stats());
  const host = new WorkerHost(engine, options, metrics);
  let url = '';
  const app = buildWorkerApp({ host, advertiseUrl: () => url, logger: listen.logger ?? false });
  try {
    await app.listen({ host: listen.host, port: listen.port });
  } catch (error) {
    engine.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : listen.port;
  // Other workers pull KV from here: a wildcard bind is advertised as loopback.
  const advertised = listen.host === '0.0.0.0' || listen.host === '::' ? '127.0.0.1' : listen.host;
  url = `http://${advertised.includes(':') ? `[${advertised}]` : advertised}:${port}`;
  host.markReady();
  return {
    app,
    host,
    url,
    async close() {
      await app.close();
      await host.close();
    },
  };
}
