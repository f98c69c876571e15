// autocannon ships no type declarations; this covers the part the router benchmark uses.
declare module 'autocannon' {
  interface Options {
    url: string;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    connections?: number;
    duration?: number;
    overallRate?: number;
  }
  interface Result {
    errors: number;
    timeouts: number;
    requests: { total: number };
  }
  interface Instance {
    /** responseTime in milliseconds, fractional. */
    on(event: 'response', listener: (client: unknown, statusCode: number, resBytes: number, responseTime: number) => void): void;
  }
  export default function autocannon(options: Options, callback: (error: Error | null, result: Result) => void): Instance;
}
