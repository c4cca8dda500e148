'use server';
// Approving and dismissing recommendations: buyers and admins only, through
// the one action wrapper (a viewer is refused by the server, whatever the page shows).
import { tenantAction } from '@/lib/request/action';
import { decideManyHandler, decideRecommendationHandler } from './mutations';
import { decideManySchema, decideSchema } from './schema';

export const decideRecommendationAction = tenantAction(decideSchema, 'buyer', decideRecommendationHandler);
export const decideManyAction = tenantAction(decideManySchema, 'buyer', decideManyHandler);
