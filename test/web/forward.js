// Runs inside the web stack's private network namespace (see serve.sh): passes each connection
// from a Unix socket, which the test process outside can open, to nginx's port on loopback.
//   node forward.js SOCKET PORT
'use strict';
const net = require('net');
const [socket, port] = process.argv.slice(2);
net.createServer((client) => {
  const upstream = net.connect(Number(port), '127.0.0.1');
  client.pipe(upstream).pipe(client);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
}).listen(socket);
