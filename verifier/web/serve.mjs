// A static file server for the demo: `node verifier/web/serve.mjs [port]`, then open the URL
// it prints. It serves verifier/ (the page imports ../js/web.js) on 127.0.0.1 only.
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};

/** Starts the server (port 0: any free port); resolves to its demo URL and a close function. */
export function serve(port = 0) {
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    let file;
    try {
      file = resolve(join(root, decodeURIComponent(url.pathname)));
    } catch {
      res.writeHead(400).end('bad request');
      return;
    }
    try {
      if (file !== root && !file.startsWith(root + sep)) throw new Error('outside the root');
      if (statSync(file).isDirectory()) {
        // `/web` must become `/web/`, or the page's relative URLs (demo.js, ../js/web.js) miss.
        if (!url.pathname.endsWith('/')) {
          res.writeHead(301, { location: `/${url.pathname.replace(/^\/+/, '')}/${url.search}` }).end();
          return;
        }
        file = join(file, 'index.html');
      }
      if (!statSync(file).isFile()) throw new Error('not a file');
    } catch {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => {
      done({ url: `http://127.0.0.1:${server.address().port}/web/`, close: () => new Promise((c) => server.close(c)) });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { url } = await serve(Number(process.argv[2] ?? 8080));
  console.log(`zkinfer demo: ${url} (build it first: npm --prefix verifier/js run build)`);
}
