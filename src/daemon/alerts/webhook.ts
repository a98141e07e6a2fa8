// Posts an alert as JSON to the configured webhook: undici, a bounded wait, a bounded answer
// (read and dropped); redirects are not followed (undici's request never does). A failure is logged, never thrown.

import { request } from 'undici';
import type { Logger } from '../../engine/logger.ts';
import type { AlertDetails } from './alert.ts';

export const WEBHOOK_TIMEOUT_MS = 10_000;
const MAX_ANSWER_BYTES = 64 * 1024;

/** POST the alert; resolves with the HTTP status, or null when the request failed (logged). */
export async function postWebhook(url: string, alert: AlertDetails, log: Logger, timeoutMs = WEBHOOK_TIMEOUT_MS): Promise<number | null> {
  const shown = url.replace(/\/\/[^@/]*@/, '//***@');
  try {
    const res = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'stapler-alerts' },
      body: JSON.stringify(alert),
      signal: AbortSignal.timeout(timeoutMs),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    let read = 0;
    for await (const chunk of res.body) {
      read += (chunk as Buffer).length;
      if (read > MAX_ANSWER_BYTES) {
        res.body.destroy();
        break;
      }
    }
    if (res.statusCode >= 200 && res.statusCode < 300)
      log.info({ event: alert.event, cert: alert.cert, webhook: shown, status: res.statusCode }, 'alert webhook sent');
    else log.error({ event: alert.event, cert: alert.cert, webhook: shown, status: res.statusCode }, `alert webhook answered HTTP ${res.statusCode}`);
    return res.statusCode;
  } catch (err) {
    const why = err instanceof Error ? (err.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : err.message) : String(err);
    log.error({ event: alert.event, cert: alert.cert, webhook: shown }, `alert webhook failed: ${why}`);
    return null;
  }
}
