import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

export const logger = new Logger({ serviceName: 'fundguard' });
export const metrics = new Metrics({ namespace: 'FundGuard', serviceName: 'fundguard' });
