// Shapes of the REST API as the server's OpenAPI document (`/api/openapi.json`) describes
// them, for the routes this client calls. Owns types only: no requests, no logic.

/** A user as the API shows it (`UserView`). */
export interface UserView {
  id: string;
  email: string | null;
  name: string | null;
  admin: boolean;
  disabled?: boolean;
}

/** `POST /api/auth/login` answer (`LoggedIn`); the token is also set as the `easel_token` cookie. */
export interface LoggedIn {
  token: string;
  expires_at: number;
  user: UserView;
}

/** `POST /api/auth/register` answer (`Registered`). */
export interface Registered {
  user: UserView;
}

/** A caller's role on a board. */
export type Role = 'owner' | 'editor' | 'viewer';

/** Live statistics of a board (`BoardStats`). */
export interface BoardStats {
  connected: number;
  document_bytes: number;
  /** Milliseconds since the Unix epoch. */
  last_edit_at: number;
}

/** A board as the API shows it (`BoardView`). */
export interface BoardView {
  id: string;
  name: string;
  owner: string;
  role: Role | null;
  /** Milliseconds since the Unix epoch. */
  created_at: number;
  /** Last change to the board or its document, milliseconds since the Unix epoch. */
  updated_at: number;
  archived: boolean;
  /** Milliseconds since the Unix epoch. */
  archived_at: number | null;
  stats?: BoardStats;
}

/** `GET /api/boards` answer (`BoardList`). */
export interface BoardList {
  items: BoardView[];
  next: string | null;
}

/** `POST /api/boards/{id}/assets` answer: a stored image (id == hash, the SHA-256 of the bytes). */
export interface AssetView {
  id: string;
  mime: string;
  w: number;
  h: number;
  hash: string;
  bytes: number;
}
