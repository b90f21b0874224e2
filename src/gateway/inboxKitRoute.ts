import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../appContext';
import { sendPublicAsset } from '../web/publicAssets';

/**
 * `GET /kit/herald-client.js` (the browser client) and `GET /kit/herald-inbox.js` (the `<herald-inbox>`
 * component with the client inside), ES modules served by the gateway they talk to, so a page always
 * gets the client of the protocol this Herald speaks. Any origin may import them (they hold no data).
 */
export const inboxKitRoute: FastifyPluginAsync<{ ctx: AppContext }> = async (app) => {
  for (const file of ['herald-client.js', 'herald-inbox.js'])
    app.get(`/kit/${file}`, { schema: { hide: true } }, async (_req, reply) =>
      sendPublicAsset(reply, `kit/${file}`, {
        'cache-control': 'no-cache',
        'access-control-allow-origin': '*',
        'cross-origin-resource-policy': 'cross-origin',
      }),
    );
};
