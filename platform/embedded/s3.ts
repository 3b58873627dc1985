import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import S3rver from 's3rver';
import type { Logger } from '../logger.ts';

export interface EmbeddedS3 {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  stop(): Promise<void>;
}

/** s3rver on loopback: real S3 HTTP semantics for @aws-sdk/client-s3 with path-style addressing. */
export async function startEmbeddedS3(options: { dataDir: string; persistent: boolean; logger: Logger }): Promise<EmbeddedS3> {
  const directory = resolve(options.dataDir, options.persistent ? 's3' : `s3-run-${process.pid}-${Date.now()}`);
  mkdirSync(directory, { recursive: true });
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true, resetOnClose: !options.persistent });
  const address = (await server.run()) as AddressInfo;
  options.logger.info({ port: address.port }, 'embedded s3rver started');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    // s3rver's fixed development credentials.
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    stop: async () => void (await server.close()),
  };
}
