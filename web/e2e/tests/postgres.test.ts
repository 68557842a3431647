/**
 * The board scenario against a server on Postgres (a fresh database on
 * `EASEL_TEST_DATABASE_URL`, dropped afterwards).
 *
 * Owns only the choice of backend; the steps live in src/scenario.ts.
 */
import { boardScenario } from '../src/scenario.ts';

boardScenario('postgres');
