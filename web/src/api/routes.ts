// One typed function per REST route the client calls. Owns paths and shapes of requests;
// sending them and error handling belong to ./client.ts.
import { request } from './client';
import type { AssetView, BoardList, BoardView, LoggedIn, Registered, UserView } from './types';

/** Signs in with email and password; the server sets the `easel_token` cookie. */
export function login(email: string, password: string): Promise<LoggedIn> {
  return request('POST', '/api/auth/login', { json: { email, password } });
}

/** Creates an account (when the server's `EASEL_OPEN_SIGNUP` allows it); sign in afterwards. */
export function register(email: string, name: string, password: string): Promise<Registered> {
  return request('POST', '/api/auth/register', { json: { email, name, password } });
}

/** Signs out: revokes the token and clears the cookie. */
export function logout(): Promise<void> {
  return request('POST', '/api/auth/logout');
}

/** The signed-in caller. Fails with status 401 when nobody is signed in. */
export function me(): Promise<UserView> {
  return request('GET', '/api/me');
}

/** One board, with the caller's role on it. */
export function getBoard(id: string): Promise<BoardView> {
  return request('GET', `/api/boards/${encodeURIComponent(id)}`);
}

/** Renames a board (owners only). */
export function renameBoard(id: string, name: string): Promise<BoardView> {
  return request('PATCH', `/api/boards/${encodeURIComponent(id)}`, { json: { name } });
}

/** The boards the caller can see. */
export function listBoards(): Promise<BoardList> {
  return request('GET', '/api/boards');
}

/** Creates a board owned by the caller. */
export function createBoard(name: string): Promise<BoardView> {
  return request('POST', '/api/boards', { json: { name } });
}

/** Uploads image bytes to a board's assets; the server checks the content and answers its id. */
export function uploadAsset(boardId: string, bytes: Blob): Promise<AssetView> {
  return request('POST', `/api/boards/${encodeURIComponent(boardId)}/assets`, { body: bytes });
}

/** The URL an asset is served from (to anyone who may read the board). */
export function assetUrl(boardId: string, assetId: string): string {
  return `/api/boards/${encodeURIComponent(boardId)}/assets/${encodeURIComponent(assetId)}`;
}
