/**
 * The few REST calls the end-to-end suite makes to set a scene up and to check the
 * server's side of it: accounts, a board, its members, its JSON export and its assets.
 *
 * Owns nothing but HTTP requests with a bearer token; it must not drive a browser. Shapes
 * follow `server/src/http/api/*.rs` (and `/api/openapi.json`).
 */

/** A signed-in account. */
export interface Account {
  id: string;
  email: string;
  name: string;
  password: string;
  /** A bearer token (also what the `easel_token` cookie holds). */
  token: string;
}

/** A board member's role. */
export type Role = 'owner' | 'editor' | 'viewer';

/** The JSON export of a board (`GET /api/boards/{id}/export?format=json`). */
export interface BoardExport {
  schema: number;
  meta: Record<string, unknown>;
  elements: Record<string, Record<string, unknown>>;
  bindings: Record<string, unknown>;
  assets: Record<string, { mime: string; w: number; h: number; hash: string }>;
}

/** A REST client for one server. */
export class Api {
  constructor(readonly baseUrl: string) {}

  /** Registers an account and signs it in. */
  async signUp(name: string): Promise<Account> {
    const email = `${name.toLowerCase()}-${Math.random().toString(36).slice(2, 10)}@e2e.test`;
    const password = `correct horse battery ${name} staple`;
    await this.json('POST', '/api/auth/register', null, { email, name, password }, 201);
    const { token, user } = await this.signIn(email, password);
    return { id: user.id, email, name, password, token };
  }

  /** `POST /api/auth/login`. */
  async signIn(email: string, password: string): Promise<{ token: string; user: { id: string } }> {
    return this.json('POST', '/api/auth/login', null, { email, password }, 200);
  }

  /** `POST /api/auth/logout`: revokes the token; sockets opened with it close with 4401. */
  async signOut(token: string): Promise<void> {
    await this.request('POST', '/api/auth/logout', token, undefined, 204);
  }

  /** Creates a board owned by the token's user and returns its id. */
  async createBoard(token: string, name: string): Promise<string> {
    const board = await this.json<{ id: string }>('POST', '/api/boards', token, { name }, 201);
    return board.id;
  }

  /** Gives `userId` a role on the board. */
  async setMember(token: string, board: string, userId: string, role: Role): Promise<void> {
    await this.json('PUT', `/api/boards/${board}/members/${userId}`, token, { role }, 200);
  }

  /** Removes `userId` from the board; their sockets close with 4403. */
  async removeMember(token: string, board: string, userId: string): Promise<void> {
    await this.request('DELETE', `/api/boards/${board}/members/${userId}`, token, undefined, 204);
  }

  /** Deletes the board; its sockets close with 4404. */
  async deleteBoard(token: string, board: string): Promise<void> {
    await this.request('DELETE', `/api/boards/${board}`, token, undefined, 204);
  }

  /** The board's document as the server's JSON export. */
  async exportJson(token: string, board: string): Promise<BoardExport> {
    return this.json('GET', `/api/boards/${board}/export?format=json`, token, undefined, 200);
  }

  /** `GET /api/boards/{id}/assets/{asset}`, answered as it is. */
  async asset(token: string, board: string, asset: string): Promise<Response> {
    return fetch(`${this.baseUrl}/api/boards/${board}/assets/${asset}`, {
      headers: { authorization: `Bearer ${token}` },
    });
  }

  private async json<T>(
    method: string,
    path: string,
    token: string | null,
    body: unknown,
    expected: number,
  ): Promise<T> {
    const response = await this.request(method, path, token, body, expected);
    return (await response.json()) as T;
  }

  private async request(
    method: string,
    path: string,
    token: string | null,
    body: unknown,
    expected: number,
  ): Promise<Response> {
    const headers: Record<string, string> = {};
    if (token) headers['authorization'] = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (response.status !== expected) {
      throw new Error(
        `${method} ${path} answered ${response.status}, expected ${expected}: ${await response.text()}`,
      );
    }
    return response;
  }
}
