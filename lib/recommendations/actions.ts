'use server';
// Approving and dismissing recommendations, undoing what the loop applied by
// itself, and its auto-apply settings: buyers and admins only, through the one
// action wrapper (a viewer is refused by the server, whatever the page shows).
import { tenantAction } from '@/lib/request/action';
import { saveAutoApplyHandler, undoAutoApplyHandler } from './auto-apply';
import { autoApplySettingsSchema, undoSchema } from './auto-apply-schema';
import { decideManyHandler, decideRecommendationHandler } from './mutations';
import { decideManySchema, decideSchema } from './schema';

export const decideRecommendationAction = tenantAction(decideSchema, 'buyer', decideRecommendationHandler);
export const decideManyAction = tenantAction(decideManySchema, 'buyer', decideManyHandler);
export const undoAutoApplyAction = tenantAction(undoSchema, 'buyer', undoAutoApplyHandler);
export const saveAutoApplyAction = tenantAction(autoApplySettingsSchema, 'buyer', saveAutoApplyHandler);
