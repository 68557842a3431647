// The one fetch wrapper of the client and its one error type. Owns how requests are sent
// (same-origin, the `easel_token` cookie, JSON bodies) and how failures become `ApiError`s
// carrying the server's `{"error": {"code", "message"}}` body. It must not know any route:
// those live in ./routes.ts.

/** A failed API call: the HTTP status (0 when the network failed) and the server's code and message. */
export class ApiError extends Error {
  /** HTTP status; 0 when the request never got an answer (offline, DNS, CORS). */
  readonly status: number;
  /** The server's machine-readable error code (`unauthorized`, `not_found`, ...), or `network`. */
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }

  /** True when the caller is not signed in (or the session expired). */
  get unauthorized(): boolean {
    return this.status === 401;
  }
}

/** Options of one request: a JSON body, or raw bytes sent as they are. */
export interface RequestOptions {
  json?: unknown;
  body?: Blob | ArrayBuffer;
  signal?: AbortSignal;
}

/** Sends one request to the API and decodes its JSON answer (undefined for 204). */
export async function request<T>(
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  opts: RequestOptions = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  let body: BodyInit | undefined;
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.body !== undefined) {
    body = opts.body;
  }
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body,
      credentials: 'same-origin',
      signal: opts.signal ?? null,
    });
  } catch (e) {
    throw new ApiError(0, 'network', `Could not reach the server (${(e as Error).message})`);
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(
      res.status,
      err?.code ?? `http_${res.status}`,
      err?.message ?? `The server answered ${res.status} ${res.statusText}`,
    );
  }
  return data as T;
}
