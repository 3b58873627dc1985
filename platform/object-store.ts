import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ServiceUnavailableError } from './errors.ts';

/**
 * The one S3 module. Recordings, screen captures and purge evidence build on it, so bucket and
 * key handling, ranges and error mapping live here once.
 */
export interface PutOptions {
  contentType?: string;
  metadata?: Record<string, string>;
  /**
   * Write only if no object has this key (S3 conditional write). Resolves `false` when one exists.
   * Stores that ignore the condition (s3rver) are covered by a HEAD first, which suffices for one writer.
   */
  ifAbsent?: boolean;
  /** Object-lock retention; only for buckets whose `objectLock()` says enabled. */
  retention?: { mode: 'COMPLIANCE' | 'GOVERNANCE'; until: Date };
}

export interface ObjectStore {
  bucket: string;
  ensureBucket(): Promise<void>;
  /** The same client on another bucket (e.g. a dedicated object-locked one). */
  withBucket(bucket: string): ObjectStore;
  /** Whether the bucket has S3 Object Lock enabled; false where the store does not implement it. */
  objectLock(): Promise<{ enabled: boolean; reason?: string }>;
  put(key: string, body: Buffer | string | Readable, options?: PutOptions): Promise<boolean>;
  get(key: string, range?: { start: number; end?: number }): Promise<{ body: Readable; contentLength: number; contentType: string | undefined; contentRange: string | undefined }>;
  head(key: string): Promise<{ contentLength: number; contentType: string | undefined; metadata: Record<string, string> } | undefined>;
  delete(key: string): Promise<void>;
  list(prefix: string): Promise<{ key: string; size: number }[]>;
  ping(): Promise<void>;
}

export function createObjectStore({ client, bucket }: { client: S3Client; bucket: string }): ObjectStore {
  const store: ObjectStore = {
    bucket,
    async ensureBucket() {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
      } catch {
        await client.send(new CreateBucketCommand({ Bucket: bucket })).catch((error: { name?: string }) => {
          if (error.name !== 'BucketAlreadyOwnedByYou' && error.name !== 'BucketAlreadyExists') throw error;
        });
      }
    },
    withBucket(other) {
      return createObjectStore({ client, bucket: other });
    },
    async objectLock() {
      try {
        const result = await client.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
        const enabled = result.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled';
        return enabled ? { enabled } : { enabled, reason: 'object lock is not enabled on the bucket' };
      } catch (error) {
        const name = (error as { name?: string }).name ?? 'error';
        // AWS and MinIO answer ObjectLockConfigurationNotFoundError for a bucket created without lock; s3rver NotImplemented.
        return { enabled: false, reason: name === 'NotImplemented' ? 'the object store does not implement object lock' : `${name}: ${(error as Error).message}` };
      }
    },
    async put(key, body, options = {}) {
      if (options.ifAbsent && (await store.head(key))) return false;
      try {
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: body,
            ContentType: options.contentType,
            Metadata: options.metadata,
            ...(options.ifAbsent ? { IfNoneMatch: '*' } : {}),
            ...(options.retention ? { ObjectLockMode: options.retention.mode, ObjectLockRetainUntilDate: options.retention.until } : {}),
          }),
        );
        return true;
      } catch (error) {
        const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
        if (options.ifAbsent && (name === 'PreconditionFailed' || $metadata?.httpStatusCode === 412)) return false;
        throw error;
      }
    },
    async get(key, range) {
      const result = await client.send(
        new GetObjectCommand({ Bucket: bucket, Key: key, ...(range ? { Range: `bytes=${range.start}-${range.end ?? ''}` } : {}) }),
      );
      return {
        body: result.Body as Readable,
        contentLength: result.ContentLength ?? 0,
        contentType: result.ContentType,
        contentRange: result.ContentRange,
      };
    },
    async head(key) {
      try {
        const result = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return { contentLength: result.ContentLength ?? 0, contentType: result.ContentType, metadata: result.Metadata ?? {} };
      } catch (error) {
        if ((error as { name?: string }).name === 'NotFound') return undefined;
        throw error;
      }
    },
    async delete(key) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
    async list(prefix) {
      const items: { key: string; size: number }[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        for (const item of page.Contents ?? []) if (item.Key) items.push({ key: item.Key, size: item.Size ?? 0 });
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return items;
    },
    async ping() {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
      } catch (error) {
        throw new ServiceUnavailableError('s3.unavailable', 'Object storage is not reachable.', error);
      }
    },
  };
  return store;
}
