// Committed test data for the auth tests: a fresh tenant and accounts per test
// (tests/helpers/factories.ts), and a counting helper.
import type pg from 'pg';
import { factories } from '../helpers/factories';

export const PASSWORD = 'correct horse battery staple';

const f = factories({ password: PASSWORD, emailPrefix: 'u', domain: 'auth.test', namePrefix: 'User' });

export const createUser = f.createUser;
export const addMembership = f.addMembership;
export const createTeam = (owner: pg.Pool, name = 'Auth tenant') => f.createTeam(owner, name);

export async function count(owner: pg.Pool, text: string, values: unknown[]): Promise<number> {
  const r = await owner.query<{ n: number }>(`select count(*)::int as n from (${text}) q`, values);
  return r.rows[0]!.n;
}
