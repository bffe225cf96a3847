// Render a plan from Node: create it and submit a render with fetch, follow its place in line with the
// `eventsource` package, download the result, and (with WEBHOOK_PORT set) verify the signed webhook the
// service sends when it is done with the `standardwebhooks` package.
//
//   npm ci && FLOORPLAN_URL=http://127.0.0.1:8000 FLOORPLAN_API_KEY=fp_... node render.mjs plan.json out.png
//
// WEBHOOK_PORT: listen there for the webhook; WEBHOOK_URL: the address the service posts to (default
// http://127.0.0.1:$WEBHOOK_PORT/hook; the service must be allowed to post to it).
import { randomUUID } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { EventSource } from "eventsource";
import { Webhook } from "standardwebhooks";

const [planFile, out] = process.argv.slice(2);
const base = process.env.FLOORPLAN_URL ?? "http://127.0.0.1:8000";
const auth = { Authorization: `Bearer ${process.env.FLOORPLAN_API_KEY}` };
const port = Number(process.env.WEBHOOK_PORT ?? 0);

async function api(path, init = {}) {
  const response = await fetch(base + path, { ...init, headers: { ...auth, ...init.headers } });
  const body = await response.json();
  if (!response.ok) throw new Error(`${response.status} ${body.title}: ${body.detail ?? ""}`); // a problem body
  return body;
}

// A webhook endpoint that accepts only what the Standard Webhooks library verifies.
function receiveWebhook(secret) {
  const verifier = new Webhook(secret);
  return new Promise((resolve) => {
    const server = createServer(async (req, res) => {
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      try {
        const payload = verifier.verify(Buffer.concat(chunks).toString("utf8"), req.headers);
        res.writeHead(204).end();
        server.close();
        resolve(payload);
      } catch (error) {
        console.error(`webhook refused: ${error.message}`);
        res.writeHead(400).end();
      }
    });
    server.listen(port, "127.0.0.1");
  });
}

// Follows the render until it finishes; resolves with its last state. EventSource resumes by itself with
// Last-Event-ID if the connection drops, and the server's 204 after the end tells it to stop.
function follow(id) {
  return new Promise((resolve, reject) => {
    const events = new EventSource(`${base}/v1/renders/${id}/stream`, {
      fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, ...auth } }),
    });
    const onChange = (event) => {
      const job = JSON.parse(event.data);
      console.log(job.queue ? `${job.state}: ${job.queue.ahead} ahead, ETA ${job.queue.eta_seconds} s` : job.state);
      if (["succeeded", "failed", "canceled"].includes(job.state)) {
        events.close();
        resolve(job);
      }
    };
    events.addEventListener("state", onChange);
    events.addEventListener("position", onChange);
    events.onerror = (error) => { if (events.readyState === EventSource.CLOSED) reject(error); };
  });
}

const webhook = port ? receiveWebhook((await api("/v1/webhooks/secret")).secret) : null;
const plan = await api("/v1/plans", {
  method: "POST", headers: { "Content-Type": "application/json" }, body: await readFile(planFile),
});
console.log(`plan ${plan.id} (${plan.name})`);
const request = { view: "2d", format: "png", width: 800, height: 600, cache: false };
if (port) request.webhook = { url: process.env.WEBHOOK_URL ?? `http://127.0.0.1:${port}/hook` };
const submitted = await api(`/v1/plans/${plan.id}/renders`, {
  method: "POST", headers: { "Content-Type": "application/json", "Idempotency-Key": randomUUID() },
  body: JSON.stringify(request),
});
console.log(`render ${submitted.id}`);
const last = await follow(submitted.id);
const job = await api(`/v1/renders/${submitted.id}`); // fresh, so its download link is too
if (job.state !== "succeeded") {
  console.error(`render ${job.state}: ${job.error?.message ?? ""}`);
  process.exit(1);
}
const download = await fetch(job.result.url); // a signed link: no key needed
if (!download.ok) throw new Error(`download: ${download.status}`);
await writeFile(out, Buffer.from(await download.arrayBuffer()));
console.log(`saved ${out} (${job.result.bytes} bytes, last seen ${last.state})`);
if (webhook) {
  const payload = await webhook;
  console.log(`webhook verified: ${payload.type} ${payload.data.id} ${payload.data.state}`);
}
