// The daemon config: one TypeBox schema with a default and a description on
// every key. The loader applies the defaults and validates against this
// schema; docs/config.md's reference table is rendered from it (and a test
// fails when the two drift), so the descriptions here are the documentation.
//
// Every object is closed (`additionalProperties: false`) so that a misspelt
// key is an error instead of a silently ignored setting. Keys with a default
// are required in the static type because the defaults are applied before
// validation; `Type.Optional` marks keys whose absence means something.
import { Type, type Static, type TSchema, type TUnsafe } from '@sinclair/typebox';

/** Names of the shipped policies (DESIGN.md, issue 3). */
export const POLICY_NAMES = ['static', 'static-best', 'reactive', 'dynamo-sla', 'dopd', 'pdpilot', 'oracle', 'colocated'] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

/**
 * Policies that exist only as yardsticks inside the simulator: `oracle` needs
 * the future load and `colocated` needs workers that run both phases, which
 * the worker protocol does not offer. The loader rejects them for the daemon.
 */
export const SIMULATION_ONLY_POLICIES: readonly PolicyName[] = ['oracle', 'colocated'];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** A job schedule that turns the job off instead of naming a time. */
export const JOB_OFF = 'off';

/** A string that must be one of `values`: a union of literals, typed as the union of the strings. */
function oneOf<const T extends readonly string[]>(values: T, options: { description: string; default?: T[number] }) {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  ) as unknown as TUnsafe<T[number]>;
}

function section<T extends Parameters<typeof Type.Object>[0]>(properties: T, description: string) {
  // `default: {}` lets a whole section be left out; the loader then fills each key's own default.
  return Type.Object(properties, { additionalProperties: false, default: {}, description });
}

const port = (description: string, defaultPort: number) =>
  Type.Integer({ minimum: 1, maximum: 65535, default: defaultPort, description });

const host = (description: string) => Type.String({ minLength: 1, default: '127.0.0.1', description });

const positiveSeconds = (description: string, defaultSeconds: number) =>
  Type.Number({ exclusiveMinimum: 0, default: defaultSeconds, description });

const cron = (description: string, defaultExpression: string) =>
  Type.String({ minLength: 1, default: defaultExpression, description: `${description} Five-field cron expression (six with seconds), or "${JOB_OFF}".` });

const StaticWorkerSchema = Type.Object(
  {
    url: Type.String({ minLength: 1, description: 'Base URL of the worker (http or https), e.g. `http://10.0.0.5:8100`.' }),
    kind: oneOf(['native', 'vllm', 'sglang'] as const, {
      default: 'native',
      description:
        'What serves at the URL: a pdpilot native worker (worker protocol), or a vLLM or SGLang server (read through their Prometheus metrics; role switches only on SGLang).',
    }),
    role: Type.Optional(
      oneOf(['prefill', 'decode'] as const, {
        description: 'Role the worker starts in. Native workers report their own role and may omit it; vLLM and SGLang workers must state it.',
      }),
    ),
  },
  { additionalProperties: false, description: 'One existing worker of a static fleet.' },
);

const AdminTokenSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, description: 'Label of the token, recorded with the admin actions done under it. Unique.' }),
    token: Type.Optional(
      Type.String({ description: 'The bearer token itself (at least 16 characters). Prefer `tokenEnv` so that secrets stay out of files.' }),
    ),
    tokenEnv: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Name of the environment variable that holds the token. If it is unset when the config is loaded, the token is disabled with a warning.',
      }),
    ),
    scope: oneOf(['read', 'admin'] as const, {
      description: '`read` may call GET routes; `admin` may also change state (policy, pause, advisory, overrides).',
    }),
  },
  { additionalProperties: false, description: 'One admin API bearer token: exactly one of `token` and `tokenEnv`.' },
);

export const ConfigSchema = Type.Object(
  {
    fleet: section(
      {
        mode: oneOf(['local', 'static'] as const, {
          default: 'local',
          description: '`local`: pdpilot spawns, watches and restarts its own worker processes. `static`: pdpilot controls workers that already run, listed in `fleet.urls`.',
        }),
        backend: oneOf(['sim', 'cpu', 'cuda'] as const, {
          default: 'sim',
          description:
            'Engine backend of local workers: `sim` times each step from the profile without doing math, `cpu` runs a real small model on the CPU, `cuda` runs on a GPU.',
        }),
        profile: Type.String({
          minLength: 1,
          default: 'profiles/opt-13b-tp1-a100.json',
          description:
            'Performance profile (latency model and KV capacity) of one worker. The planner sizes roles with it and `sim` workers time their steps with it. Must exist.',
        }),
        workers: Type.Integer({
          minimum: 1,
          default: 4,
          description: 'Number of local workers (one per GPU). Local mode only; a static fleet has one worker per entry of `fleet.urls`.',
        }),
        initialPrefill: Type.Optional(
          Type.Integer({
            minimum: 0,
            description:
              'Local workers that start in the prefill role; the rest start as decode. A restart on the same store brings back each worker that a recorded flip moved in the role that flip left it in. Default: half of `fleet.workers` rounded down, moved into the range that `controller.minPerRole` allows. Local mode only.',
          }),
        ),
        host: host('Address local workers bind to.'),
        basePort: port('Port of the first local worker; worker i listens on `basePort + i`.', 8100),
        urls: Type.Array(StaticWorkerSchema, {
          default: [],
          description: 'The workers of a static fleet. Static mode only, and required there.',
        }),
        scrapeTimeoutSeconds: positiveSeconds('How long one scrape of a worker (state and metrics) may take before it counts as failed.', 2),
        restart: section(
          {
            backoffBaseSeconds: positiveSeconds('Wait before restarting a crashed local worker the first time; doubles with each further crash.', 1),
            backoffMaxSeconds: positiveSeconds('Longest wait between restarts of a crashed local worker.', 60),
            maxCrashes: Type.Integer({
              minimum: 1,
              default: 5,
              description: 'A local worker that crashes this many times within `crashWindowSeconds` is left down and reported, not restarted again.',
            }),
            crashWindowSeconds: positiveSeconds('Window over which crashes are counted against `maxCrashes`.', 600),
          },
          'Restart policy for crashed local workers.',
        ),
      },
      'The workers pdpilot controls: spawned locally or listed.',
    ),
    slo: section(
      {
        ttftSeconds: Type.Number({ exclusiveMinimum: 0, default: 1, description: 'Time-to-first-token bound a request must meet, seconds.' }),
        tpotSeconds: Type.Number({ exclusiveMinimum: 0, default: 0.1, description: 'Time-per-output-token bound a request must meet, seconds.' }),
        attainment: Type.Number({
          exclusiveMinimum: 0,
          maximum: 1,
          default: 0.9,
          description: 'Fraction of requests that must meet both bounds jointly (DistServe uses 0.9 and 0.99).',
        }),
      },
      'Service-level objectives the policy plans for; goodput counts only requests within both bounds.',
    ),
    policy: section(
      {
        name: Type.Optional(
          oneOf(POLICY_NAMES, {
            description:
              'Shipped policy to run. Default `pdpilot` when `policy.file` is not given. `oracle` and `colocated` exist only in the simulator and are refused here.',
          }),
        ),
        file: Type.Optional(Type.String({ minLength: 1, description: 'A policy configuration file (policies/*.json) to run instead of `policy.name`. Must exist.' })),
        params: Type.Record(Type.String(), Type.Unknown(), {
          default: {},
          description: "Parameters passed to the policy as they are; each policy's design note in docs/policies/ lists its own.",
        }),
      },
      'Which policy decides the prefill:decode split. Give `name` or `file`, not both.',
    ),
    controller: section(
      {
        intervalSeconds: positiveSeconds(
          'Time between reconciliations (observe, forecast, plan, actuate). Long enough for a drain to finish, short enough to follow minute-scale load shifts.',
          30,
        ),
        advisory: Type.Boolean({ default: false, description: 'Decide and record every decision, but never flip a worker (dry run).' }),
        minPerRole: section(
          {
            prefill: Type.Integer({ minimum: 0, default: 1, description: 'Fewest workers the controller keeps in the prefill role.' }),
            decode: Type.Integer({ minimum: 0, default: 1, description: 'Fewest workers the controller keeps in the decode role.' }),
          },
          'Floors per role that no decision may go below.',
        ),
        maxFlipsPerInterval: Type.Integer({
          minimum: 1,
          default: 1,
          description: 'Most role flips started in one interval; larger moves take several intervals, so a bad forecast costs little.',
        }),
        cooldownSeconds: Type.Number({
          minimum: 0,
          default: 120,
          description: 'After a worker flips, it is not flipped again for this long (stops one GPU from ping-ponging).',
        }),
        stabilizationWindowSeconds: Type.Number({
          minimum: 0,
          default: 180,
          description:
            "A role gives up a worker only if every plan within this window wanted it smaller (Kubernetes HPA's scale-down stabilisation); 0 acts on each plan at once.",
        }),
        toleranceBand: Type.Number({
          minimum: 0,
          exclusiveMaximum: 1,
          default: 0.1,
          description: "No flip while each role's planned capacity is within this fraction of its current capacity (HPA's tolerance).",
        }),
        staleAfterSeconds: positiveSeconds(
          'A worker not scraped successfully for this long is marked stale: its figures are not guessed, and no flip involves it.',
          30,
        ),
        drainTimeoutSeconds: positiveSeconds('A flip whose drain has not finished after this long is rolled back and recorded as failed.', 120),
        gpuBudget: Type.Optional(
          Type.Integer({
            minimum: 1,
            description: 'Most workers (GPUs) the controller may run at once when it can add workers; at least the fleet size. Absent: the fleet size is fixed.',
          }),
        ),
      },
      'The control loop and its safety knobs.',
    ),
    router: section(
      {
        host: host('Address the OpenAI-compatible router binds to.'),
        port: port('Port of the OpenAI-compatible router.', 8000),
        model: Type.String({ minLength: 1, default: 'facebook/opt-13b', description: 'Model name the router serves (`/v1/models`); requests naming another model get 404.' }),
        maxQueue: Type.Integer({
          minimum: 1,
          default: 1024,
          description: 'Most requests waiting for a prefill worker; beyond it new requests get 429 with Retry-After.',
        }),
        maxTokens: Type.Integer({ minimum: 1, default: 1024, description: 'Largest `max_tokens` a request may ask for; less than `contextTokens`.' }),
        contextTokens: Type.Integer({
          minimum: 2,
          default: 2048,
          description: 'Context length: prompt tokens plus `max_tokens` may not exceed it (413 otherwise).',
        }),
        requestTimeoutSeconds: positiveSeconds('A request not finished after this long is cancelled and answered with 504.', 600),
        scorers: section(
          {
            lengthAware: Type.Number({
              minimum: 0,
              default: 1,
              description: "Prefill: weight of the estimated finish time from queued tokens plus the prompt's own cost (DOPD's length-aware scheduling).",
            }),
            queue: Type.Number({ minimum: 0, default: 0, description: 'Prefill: weight of plain shortest queue (requests waiting), kept for comparison.' }),
            kv: Type.Number({ minimum: 0, default: 1, description: 'Decode: weight of free KV capacity.' }),
            batch: Type.Number({ minimum: 0, default: 0.5, description: 'Decode: weight of a small running batch.' }),
          },
          'Weights of the scorers that rank candidate workers; each phase needs at least one positive weight.',
        ),
        localPrefillMaxTokens: Type.Integer({
          minimum: 0,
          default: 0,
          description: 'Prompts up to this many tokens are prefilled on the decode worker itself, skipping the KV transfer; 0 turns it off.',
        }),
      },
      'The OpenAI-compatible front door that carries each request from prefill to decode.',
    ),
    admin: section(
      {
        host: host('Address the admin API and `/metrics` bind to. Keep it on loopback unless tokens are configured.'),
        port: port('Port of the admin API and `/metrics`.', 9400),
        tokens: Type.Array(AdminTokenSchema, {
          default: [],
          description: 'Bearer tokens of the admin API. With none, every route that changes state answers 401.',
        }),
      },
      'The admin API (status, decisions, policy, overrides) and Prometheus `/metrics`.',
    ),
    store: section(
      {
        path: Type.String({
          minLength: 1,
          default: '.pdpilot/state.json',
          description: 'State file (decisions, load history, flips, config revisions). Created with its folder on first start; an existing one must be a file.',
        }),
        retention: section(
          {
            decisionsDays: positiveSeconds('Days that decisions and flips are kept.', 30),
            historyDays: positiveSeconds('Days that per-interval load history is kept; the forecaster warms up from it after a restart.', 30),
            compactAfterHours: positiveSeconds(
              'Hours after which per-interval history is merged into `compactedBucketSeconds` buckets. Must be shorter than `historyDays`.',
              48,
            ),
            compactedBucketSeconds: Type.Integer({ minimum: 1, default: 300, description: 'Width of one bucket of compacted history, seconds.' }),
          },
          'How long stored records are kept.',
        ),
      },
      'Persistent state.',
    ),
    jobs: section(
      {
        refit: cron('Forecaster refit and backtest.', '0 * * * *'),
        compaction: cron('History compaction and retention.', '30 * * * *'),
        dailySummary: cron('Daily summary record (goodput, attainment, flips).', '5 0 * * *'),
        timezone: Type.Optional(Type.String({ minLength: 1, description: 'IANA time zone the schedules are read in, e.g. `UTC`. Default: the system time zone.' })),
      },
      'Background jobs (node-cron).',
    ),
    telemetry: section(
      {
        logLevel: oneOf(LOG_LEVELS, { default: 'info', description: 'Least severe level of log line written (pino levels).' }),
      },
      'Logging of the daemon.',
    ),
  },
  { additionalProperties: false, description: 'pdpilot daemon config.' },
);

/** The config as loaded: defaults applied, validated, paths absolute, tokens read from the environment. */
export type PdpilotConfig = Static<typeof ConfigSchema>;
export type StaticWorkerConfig = Static<typeof StaticWorkerSchema>;
export type AdminTokenConfig = Static<typeof AdminTokenSchema>;

/** Loosely typed view of a schema node, for the code that walks the schema (errors, docs). */
export type SchemaNode = TSchema & {
  type?: string;
  description?: string;
  default?: unknown;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
};
