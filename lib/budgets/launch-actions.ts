'use server';
// Launching a campaign (budget, platform settings, A/B test, anomaly detection in one transaction):
// buyers and admins only, through the one action wrapper (a viewer's post is refused by the server,
// whatever the page shows). Every page is re-rendered after a launch.
import { tenantAction } from '@/lib/request/action';
import { launchCampaignHandler } from './launch';
import { launchSchema } from './launch-schema';

export const launchCampaignAction = tenantAction(launchSchema, 'buyer', launchCampaignHandler);
