'use server';
// "Run the optimiser now" for the current tenant: buyers and admins only,
// through the one action wrapper.
import { tenantAction } from '@/lib/request/action';
import { runOptimizerHandler } from './mutations';
import { runOptimizerSchema } from './schema';

export const runOptimizerAction = tenantAction(runOptimizerSchema, 'buyer', runOptimizerHandler);
