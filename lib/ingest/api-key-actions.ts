'use server';
// API keys of the ingest API: admins only, through the one action wrapper (a
// buyer or a viewer is refused by the server, whatever the page shows).
import { tenantAction } from '@/lib/request/action';
import { API_KEY_ACTIONS } from './api-keys';

export const createApiKeyAction = tenantAction(API_KEY_ACTIONS.create.schema, API_KEY_ACTIONS.create.minRole, API_KEY_ACTIONS.create.handler);
export const revokeApiKeyAction = tenantAction(API_KEY_ACTIONS.revoke.schema, API_KEY_ACTIONS.revoke.minRole, API_KEY_ACTIONS.revoke.handler);
