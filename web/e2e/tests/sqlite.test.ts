/**
 * The board scenario against a server on the embedded SQLite backend.
 *
 * Owns only the choice of backend; the steps live in src/scenario.ts.
 */
import { boardScenario } from '../src/scenario.ts';

boardScenario('sqlite');
