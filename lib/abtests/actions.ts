'use server';
// Creating, editing and moving A/B tests: buyers and admins only, through the one action wrapper
// (a viewer is refused by the server, whatever the page shows).
import { tenantAction } from '@/lib/request/action';
import { createAbTestHandler, moveAbTestHandler, updateAbTestHandler } from './mutations';
import { createAbTestSchema, moveAbTestSchema, updateAbTestSchema } from './schema';

export const createAbTestAction = tenantAction(createAbTestSchema, 'buyer', createAbTestHandler);
export const updateAbTestAction = tenantAction(updateAbTestSchema, 'buyer', updateAbTestHandler);
export const moveAbTestAction = tenantAction(moveAbTestSchema, 'buyer', moveAbTestHandler);
