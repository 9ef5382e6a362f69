// A metrics endpoint that serves a file as it is at each scrape: the demo
// writes the error ratio it wants Prometheus to see. Run as
// `node cluster/metrics-file.ts FILE PORT`; loopback only.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [file, port] = process.argv.slice(2);
if (!file || !port) {
  process.stderr.write('usage: node cluster/metrics-file.ts FILE PORT\n');
  process.exit(2);
}
createServer((_req, res) => {
  let body = '';
  try {
    body = readFileSync(file, 'utf8');
  } catch {
    // No file yet: no samples.
  }
  res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
  res.end(body);
}).listen(Number(port), '127.0.0.1');
