'use strict';
// A stand-in for notify_push's server, for the nginx tier: answers /test/cookie with a number,
// and accepts a WebSocket on /ws (the RFC 6455 handshake), then sends one text frame naming the
// request it saw (path, Host, X-Forwarded-For) and echoes the first frame the client sends.
// usage: node push-standin.js PORT
const crypto = require('crypto');
const http = require('http');

const port = Number(process.argv[2]);
const frame = (text) => {
  const body = Buffer.from(text);
  return Buffer.concat([Buffer.from([0x81, body.length]), body]); // FIN + text; under 126 bytes
};
// A client's frame is masked (RFC 6455 5.3).
const unmask = (data) => {
  const length = data[1] & 0x7f;
  const mask = data.subarray(2, 6);
  return Buffer.from(data.subarray(6, 6 + length).map((b, i) => b ^ mask[i % 4])).toString();
};

const server = http.createServer((req, res) => {
  if (req.url === '/test/cookie') return res.end('0');
  res.statusCode = 404;
  res.end();
});
server.on('upgrade', (req, socket) => {
  if (req.url !== '/ws' || (req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return socket.destroy();
  const accept = crypto.createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  socket.write(frame(JSON.stringify({ path: req.url, host: req.headers.host, forwardedFor: req.headers['x-forwarded-for'] })));
  socket.once('data', (d) => socket.write(frame(`echo ${unmask(d)}`)));
});
server.listen(port, '127.0.0.1', () => console.log('listening'));
