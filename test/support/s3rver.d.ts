// s3rver ships no types; this is the part of its API the test harness uses.
declare module 's3rver' {
  export default class S3rver {
    constructor(options: {
      address?: string;
      port?: number;
      silent?: boolean;
      directory: string;
      configureBuckets?: { name: string }[];
    });
    run(): Promise<{ address: string; port: number }>;
    close(): Promise<void>;
    /** Koa's middleware stack (s3rver is a Koa app). */
    middleware: ((
      ctx: { method: string; path: string; query: Record<string, unknown>; type: string; body: unknown },
      next: () => Promise<void>,
    ) => Promise<void>)[];
  }
}
