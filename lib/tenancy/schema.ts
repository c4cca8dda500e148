// Input of the tenant switcher, shared by the form and the server action.
import { z } from 'zod';

export const switchTenantSchema = z.object({ tenantId: z.uuid({ error: 'Choose a tenant.' }) });
