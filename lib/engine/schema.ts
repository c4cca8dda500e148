// Input of the optimiser's actions. "Run the optimiser now" takes no field:
// the tenant comes from the session, the day is the tenant's yesterday.
import { z } from 'zod';

export const runOptimizerSchema = z.object({});
