'use server';
// Moving anomalies on the board: buyers and admins only, through the one action
// wrapper (a viewer is refused by the server, whatever the page shows).
import { tenantAction } from '@/lib/request/action';
import { moveAnomaliesHandler } from './mutations';
import { moveSchema } from './schema';

export const moveAnomaliesAction = tenantAction(moveSchema, 'buyer', moveAnomaliesHandler);
