/**
 * A lean keep-alive HTTP client (node:http, so that the client adds as little as possible
 * to the measured time) and the tenancy setup: organizations and keys made through the API.
 */
import http from 'node:http';
import { orgId, type Tenancy } from './data.ts';

export interface Reply {
  status: number;
  body: string;
}

export class Client {
  private readonly agent: http.Agent;
  private readonly base: URL;

  constructor(
    url: string,
    private readonly key: string,
    sockets = 8,
  ) {
    this.base = new URL(url);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  }

  request(method: string, pathAndQuery: string, body?: string): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { 'x-api-key': this.key };
      if (body !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(body);
      }
      const req = http.request(
        { host: this.base.hostname, port: this.base.port, method, path: pathAndQuery, agent: this.agent, headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /** A request that must succeed; anything but 2xx stops the benchmark with the answer. */
  async expectOk<T>(method: string, pathAndQuery: string, body?: unknown): Promise<T> {
    const reply = await this.request(method, pathAndQuery, body === undefined ? undefined : JSON.stringify(body));
    if (reply.status < 200 || reply.status > 299) {
      throw new Error(`${method} ${pathAndQuery} answered ${reply.status}: ${reply.body.slice(0, 500)}`);
    }
    return JSON.parse(reply.body) as T;
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface Tenants {
  /** Key ids by organization index. */
  keyIds: string[][];
  /** A read:usage + write:usage secret of the busiest organization (index 0), and its busiest key. */
  probeSecret: string;
  probeKeyId: string;
}

/** Creates the organizations and their keys through the API, a few requests at a time. */
export async function createTenants(admin: Client, tenancy: Tenancy): Promise<Tenants> {
  const keyIds: string[][] = [];
  let probeSecret = '';
  const makeOrg = async (index: number) => {
    const id = orgId(index);
    await admin.expectOk('POST', '/v1/organizations', { id, name: `Bench customer ${index}` });
    const ids: string[] = [];
    for (let k = 0; k < tenancy.keysPerOrg; k++) {
      const key = await admin.expectOk<{ id: string; key: string }>('POST', `/v1/organizations/${id}/api-keys`, {
        key_name: `key ${k}`,
        scopes: ['read:usage', 'write:usage'],
        // The bench reports two years of past usage; its keys must have existed for all of it.
        created_at: '2000-01-01T00:00:00Z',
        ...(k < 3 ? { usage_limit_chf: 1_000_000 } : {}),
      });
      ids.push(key.id);
      if (index === 0 && k === 0) probeSecret = key.key;
    }
    keyIds[index] = ids;
  };
  let next = 0;
  const worker = async () => {
    while (next < tenancy.orgs) await makeOrg(next++);
  };
  await Promise.all(Array.from({ length: 6 }, worker));
  // Limits on all three tiers, so that the limits route and the budget check do their full work.
  await admin.expectOk('PUT', `/v1/analytics/usage/limits/${orgId(0)}`, {
    monthly_api_limit: 10_000_000,
    total_api_key_limit: 5_000_000,
  });
  return { keyIds, probeSecret, probeKeyId: keyIds[0]![0]! };
}
