// A tiny web server: GET / answers a known text. Listens on $PORT (8080).
const http = require("http");
const ms = require("ms");

const started = Date.now();
const port = parseInt(process.env.PORT || "8080", 10);

http.createServer((req, res) => {
  res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" });
  res.end(`Hello from pypack nodejs-web! (up ${ms(Date.now() - started)})\n`);
}).listen(port, "0.0.0.0", () => console.log(`listening on ${port}`));
