'use server';
// Editing budget allocations, accepting the engine's recommended budget and
// adding an allocation: buyers and admins only, through the one action wrapper
// (a viewer is refused by the server, whatever the page shows).
import { tenantAction } from '@/lib/request/action';
import { acceptRecommendedHandler, createBudgetHandler, updateBudgetHandler } from './mutations';
import { acceptRecommendedSchema, createBudgetSchema, updateBudgetSchema } from './schema';

export const updateBudgetAction = tenantAction(updateBudgetSchema, 'buyer', updateBudgetHandler);
export const acceptRecommendedAction = tenantAction(acceptRecommendedSchema, 'buyer', acceptRecommendedHandler);
export const createBudgetAction = tenantAction(createBudgetSchema, 'buyer', createBudgetHandler);
