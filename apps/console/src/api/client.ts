import createClient from 'openapi-fetch';
import type { components, paths } from './schema';
import { session } from '../session';

export type Schemas = components['schemas'];
export type Problem = Schemas['Problem'];

/** A refusal of the API, with its problem+json: `detail` is what the console shows next to the action. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Partial<Problem> & Record<string, unknown>,
  ) {
    super(typeof problem.detail === 'string' && problem.detail ? problem.detail : `the request failed (HTTP ${status})`);
  }
  get code(): string | undefined {
    return this.problem.code;
  }
}

/**
 * The typed client (types generated from the gateway's OpenAPI document: schema.d.ts). The token is only in
 * memory and only in the Authorization header; `X-Client: web` makes the audit log record the medium `web`.
 */
export const api = createClient<paths>({ baseUrl: window.location.origin });
api.use({
  onRequest({ request }) {
    const token = session.get()?.token;
    if (token) request.headers.set('Authorization', `Bearer ${token}`);
    request.headers.set('X-Client', 'web');
    return request;
  },
});

/** The data of an answer, or an ApiError; a 401 of a signed-in session ends it (back to Sign in). */
export async function ok<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let answer: { data?: T; error?: unknown; response: Response };
  try {
    answer = await call;
  } catch {
    throw new ApiError(0, { detail: 'the server could not be reached' });
  }
  const { data, error, response } = answer;
  if (!response.ok) {
    if (response.status === 401 && session.get()) session.expire();
    const problem = (error && typeof error === 'object' ? error : { detail: typeof error === 'string' ? error : undefined }) as ApiError['problem'];
    throw new ApiError(response.status, problem);
  }
  return data as T;
}

/** What to show for a failure: the API's words when it answered, else the error's message. */
export const describeError = (err: unknown): string => (err instanceof Error ? err.message : String(err));
