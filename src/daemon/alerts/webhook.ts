// Posts an alert as JSON to the configured webhook: undici, a bounded wait for the whole exchange
// (a server that hangs or trickles its answer is cut off at the timeout), a bounded answer (read
// up to 64 KiB and dropped; a flood is cut there), redirects not followed (undici's request never
// does). A few posts at once (the Alerts queue). A failure is logged, never thrown.

import { request } from 'undici';
import type { Logger } from '../../engine/logger.ts';
import { printable } from '../../ocsp/printable.ts';
import type { AlertDetails } from './alert.ts';

export const WEBHOOK_TIMEOUT_MS = 10_000;
/** Answer bytes read before the connection is closed. */
export const WEBHOOK_MAX_ANSWER_BYTES = 64 * 1024;
/** Posts at once; more wait in the Alerts queue. */
export const WEBHOOK_CONCURRENCY = 4;

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
      if (read > WEBHOOK_MAX_ANSWER_BYTES) {
        res.body.destroy();
        break;
      }
    }
    if (res.statusCode >= 200 && res.statusCode < 300)
      log.info({ event: alert.event, cert: alert.cert, webhook: shown, status: res.statusCode }, 'alert webhook sent');
    else {
      const redirect = res.statusCode >= 300 && res.statusCode < 400 ? ' (redirects are not followed: configure the final URL)' : '';
      log.error({ event: alert.event, cert: alert.cert, webhook: shown, status: res.statusCode }, `alert webhook answered HTTP ${res.statusCode}${redirect}`);
    }
    return res.statusCode;
  } catch (err) {
    const why =
      err instanceof Error ? (err.name === 'TimeoutError' ? `no complete answer within ${timeoutMs} ms` : printable(err.message)) : printable(String(err));
    log.error({ event: alert.event, cert: alert.cert, webhook: shown }, `alert webhook failed: ${why}`);
    return null;
  }
}
