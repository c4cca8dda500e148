'use server';
// "Run the optimiser now" for the current tenant: buyers and admins only,
// through the one action wrapper.
import { tenantAction } from '@/lib/auth/action';
import { runOptimizerHandler, runOptimizerSchema } from './run';

export const runOptimizerAction = tenantAction(runOptimizerSchema, 'buyer', runOptimizerHandler);
