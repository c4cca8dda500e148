'use server';
// Alert channels: admins only, through the one action wrapper (a buyer or a
// viewer is refused by the server, whatever the page shows).
import { tenantAction } from '@/lib/request/action';
import { deleteChannelHandler, rotateSecretHandler, saveChannelHandler, sendTestHandler, setChannelEnabledHandler } from './mutations';
import { channelEnabledSchema, channelIdSchema, channelSchema } from './schema';

export const saveAlertChannelAction = tenantAction(channelSchema, 'admin', saveChannelHandler);
export const setAlertChannelEnabledAction = tenantAction(channelEnabledSchema, 'admin', setChannelEnabledHandler);
export const deleteAlertChannelAction = tenantAction(channelIdSchema, 'admin', deleteChannelHandler);
export const rotateWebhookSecretAction = tenantAction(channelIdSchema, 'admin', rotateSecretHandler);
export const sendTestAlertAction = tenantAction(channelIdSchema, 'admin', sendTestHandler);
