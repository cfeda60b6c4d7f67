import { z } from 'zod';
import { Values, namespace, optionalText, setting } from './settings';

/** The Prometheus endpoint. */
export const metricsSettings = namespace('metrics', {
  metricsToken: setting(
    'METRICS_TOKEN',
    (env) => optionalText()(env).pipe(z.string().min(16, `${env} must be at least 16 characters`).optional()),
    'bearer token /metrics requires (16+ characters); unset: /metrics answers 404',
  ),
});

export function metricsConfig(values: Values<typeof metricsSettings.declaration>) {
  return values;
}

export type MetricsConfig = ReturnType<typeof metricsConfig>;
