import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { ControllerService, PolicyFactory } from '../control/controller-service.js';
import type { WallClock } from '../control/flip-executor.js';
import type { Slo } from '../domain/slo.js';
import type { Profile } from '../perf/profile.js';
import { isPolicyName, POLICY_NAMES } from '../policy/registry.js';
import type { DecisionRecord, Store } from '../store/store.js';
import { authorize, type ApiToken, type TokenScope } from './auth.js';
import { ApiError, handleError } from './errors.js';
import * as S from './schemas.js';
import { whatIf } from './what-if.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The token scope a route needs; routes without one (the OpenAPI document) are open. */
    scope?: TokenScope;
  }
  interface FastifyRequest {
    /** Name of the token the request came with: the actor recorded with a change. */
    actor?: string;
  }
}

export interface ApiDeps {
  service: ControllerService;
  store: Store;
  tokens: readonly ApiToken[];
  wallClock: WallClock;
  /** Profile and SLO the what-if simulation runs with (the daemon's own). */
  profile: Profile;
  slo: Slo;
  /** Policy factory for the what-if (any registered policy, simulator-only ones included). */
  createSimPolicy: PolicyFactory;
  logger?: FastifyServerOptions['logger'];
}

const SYNTHESIS_NOTE =
  'requests synthesised from per-interval history: round(count) arrivals evenly spaced per interval, prompt lengths m±σ alternating (recorded mean and second moment), output length the recorded mean';

/**
 * The admin API (docs/admin-api.md), without listening: the daemon calls
 * `listen`, the tests `inject`. Every route has schemas in and out; reads
 * need a `read` or `admin` token, changes an `admin` token.
 */
export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logger ?? false,
    // Unknown body or query keys are errors (400), not silently dropped: a misspelt field must not look accepted.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) => reply.status(404).send({ error: { code: 'not_found', message: `no route ${request.method} ${request.url}` } }));
  // Authorisation before body parsing and validation: a caller without a token learns nothing about the input rules.
  app.addHook('onRequest', async (request) => {
    const scope = request.routeOptions.config.scope;
    if (scope) request.actor = authorize(request, deps.tokens, scope);
  });
  await app.register(swagger, {
    openapi: {
      info: { title: 'pdpilot admin API', version: '1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });

  const { service, store } = deps;
  const read = { scope: 'read' as const };
  const admin = { scope: 'admin' as const };

  app.get('/api/docs/json', { schema: { hide: true } }, async () => app.swagger());

  app.get('/api/v1/status', { config: read, schema: { summary: 'Controller status', response: S.withErrors({ 200: S.StatusSchema }) } }, async () => {
    const status = service.status();
    return { ...status, workers: service.fleet().length };
  });

  app.get('/api/v1/fleet', { config: read, schema: { summary: 'Every worker as last observed', response: S.withErrors({ 200: S.FleetSchema }) } }, async () => ({ workers: workerViews() }));

  app.get(
    '/api/v1/fleet/:worker',
    { config: read, schema: { summary: 'One worker as last observed', params: S.WorkerParamsSchema, response: S.withErrors({ 200: S.WorkerSchema }) } },
    async (request) => {
      const view = workerViews().find((w) => w.id === request.params.worker);
      if (!view) throw new ApiError('not_found', service.hasWorker(request.params.worker) ? `worker ${request.params.worker} has not been observed yet` : `no worker ${request.params.worker}`);
      return view;
    },
  );

  app.get(
    '/api/v1/decisions',
    { config: read, schema: { summary: 'Decisions, newest first, paged', querystring: S.DecisionsQuerySchema, response: S.withErrors({ 200: S.DecisionsPageSchema }) } },
    async (request) => {
      const q = request.query;
      const page = await store.decisions({
        ...(q.since ? { fromIso: new Date(q.since).toISOString() } : {}),
        ...(q.until ? { toIso: new Date(q.until).toISOString() } : {}),
        ...(q.reason ? { reasonCodes: q.reason.split(',') } : {}),
        ...(q.status ? { statuses: q.status.split(',') } : {}),
        ...(q.applied === undefined ? {} : { applied: q.applied }),
        ...(q.held === undefined ? {} : { held: q.held }),
        ...(q.limit === undefined ? {} : { limit: q.limit }),
        ...(q.cursor ? { cursor: q.cursor } : {}),
      });
      return page;
    },
  );

  app.get(
    '/api/v1/forecast',
    { config: read, schema: { summary: 'Forecast against actual, per recorded interval', querystring: S.ForecastQuerySchema, response: S.withErrors({ 200: S.ForecastSchema }) } },
    async (request) => {
      const history = await store.history({ last: request.query.last ?? 120 });
      const first = history[0];
      if (!first) return { items: [] };
      const decisions = await decisionsSince(new Date(Date.parse(first.startIso) - service.intervalSeconds * 1000).toISOString());
      return {
        items: history.map((h) => {
          // The decision taken when the interval began forecast it (its horizon is one interval).
          const startMs = Date.parse(h.startIso);
          const made = decisions.findLast((d) => Date.parse(d.atIso) <= startMs + 1000 && Date.parse(d.atIso) > startMs - service.intervalSeconds * 1000);
          return {
            startIso: h.startIso,
            intervalSeconds: h.load.intervalSeconds,
            actualRps: h.load.intervalSeconds > 0 ? h.load.requests / h.load.intervalSeconds : 0,
            ...(made?.forecast ? { forecastRps: made.forecast.requestsPerSecond } : {}),
            history: h,
          };
        }),
      };
    },
  );

  app.get('/api/v1/policy', { config: read, schema: { summary: 'The policy in force (and one pending for the next interval)', response: S.withErrors({ 200: S.PolicySettingSchema }) } }, async () => service.status().pendingPolicy ?? service.status().policy);

  app.put(
    '/api/v1/policy',
    { config: admin, schema: { summary: 'Change the policy from the next interval', body: S.PolicyPutSchema, response: S.withErrors({ 200: S.PolicySettingSchema }) } },
    async (request) => {
      // Names only: a file path here would make the API read files on the daemon's disk.
      if (!isPolicyName(request.body.name)) throw new ApiError('bad_request', `unknown policy "${request.body.name}" (known: ${POLICY_NAMES.join(', ')})`);
      return service.setPolicy({ name: request.body.name, params: request.body.params ?? {} }, actorOf(request));
    },
  );

  app.post('/api/v1/pause', { config: admin, schema: { summary: 'Pause: observe only', response: S.withErrors({ 200: S.FlagsSchema }) } }, async (request) => flagsView(await service.setPaused(true, actorOf(request))));
  app.post('/api/v1/resume', { config: admin, schema: { summary: 'Resume deciding', response: S.withErrors({ 200: S.FlagsSchema }) } }, async (request) => flagsView(await service.setPaused(false, actorOf(request))));
  app.put(
    '/api/v1/advisory',
    { config: admin, schema: { summary: 'Advisory mode on or off (decide and record, never act)', body: S.AdvisorySchema, response: S.withErrors({ 200: S.FlagsSchema }) } },
    async (request) => flagsView(await service.setAdvisory(request.body.enabled, actorOf(request))),
  );

  app.post(
    '/api/v1/overrides',
    { config: admin, schema: { summary: 'Pin a worker to a role until it expires', body: S.OverrideRequestSchema, response: S.withErrors({ 200: S.OverrideSchema }) } },
    async (request) => {
      const b = request.body;
      if (!service.hasWorker(b.worker)) throw new ApiError('not_found', `no worker ${b.worker}`);
      return service.putOverride({ workerId: b.worker, role: b.role, expiresInSeconds: b.expiresInSeconds, ...(b.note ? { note: b.note } : {}) }, actorOf(request));
    },
  );

  app.delete(
    '/api/v1/overrides/:worker',
    { config: admin, schema: { summary: 'Remove a worker’s override', params: S.WorkerParamsSchema, response: S.withErrors({ 204: S.EmptySchema }) } },
    async (request, reply) => {
      if (!(await service.removeOverride(request.params.worker, actorOf(request)))) throw new ApiError('not_found', `worker ${request.params.worker} has no override`);
      return reply.status(204).send();
    },
  );

  app.post(
    '/api/v1/simulate',
    { config: read, schema: { summary: 'What-if: replay recent load under another policy in the simulator', body: S.SimulateRequestSchema, response: S.withErrors({ 200: S.SimulateResultSchema }) } },
    async (request) => {
      const b = request.body;
      if (!isPolicyName(b.policy)) throw new ApiError('bad_request', `unknown policy "${b.policy}" (known: ${POLICY_NAMES.join(', ')})`);
      const policy = deps.createSimPolicy(b.policy, b.params ?? {});
      const fromIso = new Date(Date.parse(deps.wallClock.nowIso()) - b.minutes * 60_000).toISOString();
      const history = await store.history({ fromIso });
      if (!history.some((h) => h.load.requests >= 0.5)) throw new ApiError('no_history', `no recorded requests in the last ${b.minutes} minutes to replay`);
      const result = await whatIf({ history, policy, profile: deps.profile, slo: deps.slo, gpus: b.gpus ?? Math.max(2, service.fleet().length), intervalSeconds: service.intervalSeconds });
      return { ...result, synthesis: SYNTHESIS_NOTE };
    },
  );

  function workerViews() {
    const overrides = new Map(service.status().overrides.map((o) => [o.workerId, o]));
    return service.fleet().map(({ snapshot, error }) => {
      const override = overrides.get(snapshot.id);
      return { ...snapshot, ...(override ? { override } : {}), ...(error ? { error } : {}) };
    });
  }

  async function decisionsSince(fromIso: string): Promise<DecisionRecord[]> {
    const all: DecisionRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.decisions({ fromIso, limit: 1000, ...(cursor ? { cursor } : {}) });
      all.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return all.reverse();
  }

  return app;
}

function actorOf(request: { actor?: string }): string {
  // The onRequest hook sets it on every route with a scope; a route without one reaching here is a wiring fault.
  if (!request.actor) throw new Error('route without an authorised actor');
  return request.actor;
}

function flagsView(flags: { paused: boolean; advisory: boolean }) {
  return { paused: flags.paused, advisory: flags.advisory };
}
