// A zero-latency loopback Invoke endpoint for bench_throughput.py: answers every POST with
// its body (200, keep-alive), as Lambda answers a synchronous call of an echo function.
// Node serves on its own core, so the client under test is what limits the rate.
// Prints its URL, serves until stdin closes. Binds 127.0.0.1 only.
"use strict";
const http = require("http");
let served = 0;
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    served += 1;
    const body = Buffer.concat(chunks);
    res.writeHead(200, {
      "Content-Type": "application/json",
      "Content-Length": body.length,
      "X-Amzn-RequestId": `req-${served}`,
      "X-Amz-Executed-Version": "$LATEST",
    });
    res.end(body);
  });
});
server.keepAliveTimeout = 60000;
server.maxRequestsPerSocket = 0;
server.listen(0, "127.0.0.1", () => {
  console.log(`http://127.0.0.1:${server.address().port}`);
});
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
