'use server';
// Saving one platform's engine settings: buyers and admins only, through the
// one action wrapper (a viewer's post is refused by the server, whatever the
// page shows). Every page is re-rendered after a save.
import { tenantAction } from '@/lib/request/action';
import { savePlatformConfigHandler } from './platform-config';
import { platformConfigFormSchema } from './platform-config-schema';

export const savePlatformConfigAction = tenantAction(platformConfigFormSchema, 'buyer', savePlatformConfigHandler);
