// A tiny HTTP server on another origin, for pages that embed the widget.
import http from 'node:http';

/**
 * Serves `routes` ({ '/path': { type, body } }) on `host`:0 and returns
 * { url, close() }. Unknown paths get 404.
 */
export async function serveStatic(routes, { host = 'localhost' } = {}) {
  const server = http.createServer((req, res) => {
    const route = routes[new URL(req.url, 'http://x').pathname];
    if (!route) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': route.type, 'cache-control': 'no-store' }).end(route.body);
  });
  await new Promise((resolve) => server.listen(0, host, resolve));
  const { port } = server.address();
  return {
    url: `http://${host}:${port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
