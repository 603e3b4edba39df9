// The deployments API (/apis/pipeyard/v1/deployments): models served by pipeyard.serving.
import { request as call } from './client';

const BASE = '/apis/pipeyard/v1/deployments';

export type DeploymentState = 'PENDING' | 'STARTING' | 'READY' | 'RESTARTING' | 'FAILED' | 'STOPPED';

export interface Deployment {
  name: string;
  state: DeploymentState;
  url: string;
  model_uri: string;
  run_id: string | null;
  task: string | null;
  created_at: string;
  updated_at: string;
  artifact_id: string | null;
  framework: string;
  runtime: string;
  replicas: number;
  host: string;
  port: number | null;
  restarts: number;
  pid: number | null;
  error: string | null;
  deleting: boolean;
  endpoints: { v1_predict?: string; v2_infer?: string };
}

export interface TryAnswer {
  status: number;
  url: string;
  response: unknown;
}

const one = (name: string) => `${BASE}/${encodeURIComponent(name)}`;

export const deploymentsApi = {
  list: async () => (await call<{ deployments: Deployment[] }>('GET', BASE)).deployments ?? [],
  get: (name: string) => call<Deployment>('GET', one(name)),
  create: (body: { name: string; model: string; port?: number; framework?: string }) => call<Deployment>('POST', BASE, body),
  remove: (name: string) => call<unknown>('DELETE', one(name)),
  logs: (name: string) => call<string>('GET', `${one(name)}/logs`),
  tryIt: (name: string, protocol: 'v1' | 'v2', body: unknown) => call<TryAnswer>('POST', `${one(name)}/try`, { protocol, body }),
};

/** A first request body for the try-it form (one iris flower: the example model takes four measurements). */
export function exampleBody(protocol: 'v1' | 'v2', row: number[] = [6.7, 3.0, 5.2, 2.3]): string {
  if (protocol === 'v1') return JSON.stringify({ instances: [row] }, null, 2);
  return JSON.stringify({ inputs: [{ name: 'input-0', shape: [1, row.length], datatype: 'FP64', data: row }] }, null, 2);
}
