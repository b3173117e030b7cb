// s3rver ships no types; this is the part of its API the test harness uses.
declare module 's3rver' {
  /** s3rver's FilesystemStore (lib/stores/filesystem.js), the calls the harness makes. */
  export interface S3rverStore {
    getBucket(bucket: string): Promise<object | null>;
    listObjects(
      bucket: string,
      options: { delimiter?: string; prefix?: string; startAfter?: string; maxKeys: number },
    ): Promise<{
      objects: { key: string; size: number; lastModifiedDate: Date; metadata: { etag: string } }[];
      commonPrefixes: string[];
      isTruncated: boolean;
    }>;
  }
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
      ctx: {
        method: string;
        path: string;
        query: Record<string, unknown>;
        type: string;
        body: unknown;
        status: number;
        app: { store: S3rverStore };
      },
      next: () => Promise<void>,
    ) => Promise<void>)[];
  }
}
