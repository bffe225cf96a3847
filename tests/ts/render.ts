// The README's requests, written as a TypeScript integrator would with openapi-typescript + openapi-fetch.
// tests/test_generators.py generates schema.d.ts from openapi.yaml and plan.ts from examples/flat-2b.json
// beside this file, then runs `tsc --strict` on it: a contract that makes these bodies invalid fails the test.
import createClient from "openapi-fetch";
import type { paths } from "./schema";
import { plan } from "./plan";

const client = createClient<paths>({ baseUrl: "http://127.0.0.1:8000", headers: { Authorization: "Bearer KEY" } });

export async function render(): Promise<Blob> {
  const created = await client.POST("/v1/plans", { body: plan });
  if (!created.data) throw new Error(created.error?.detail ?? "no plan");
  const plan_id: string = created.data.id;

  // The README's render request, and its two ways of being told: a webhook (events defaulted) and an e-mail.
  const submitted = await client.POST("/v1/plans/{plan_id}/renders", {
    params: { path: { plan_id } },
    body: { view: "2d", format: "png", width: 1600, height: 1200 },
  });
  await client.POST("/v1/plans/{plan_id}/renders", {
    params: { path: { plan_id } },
    body: { view: "3d", format: "jpeg", webhook: { url: "https://example.com/hooks/floorplan" } },
  });
  await client.POST("/v1/plans/{plan_id}/renders", {
    params: { path: { plan_id } },
    body: { webhook: { url: "https://example.com/hooks/floorplan", events: ["started", "completed"] },
            notify_email: "you@example.com", options: {} },
  });
  await client.POST("/v1/plans/{plan_id}/renders", {
    params: { path: { plan_id } },
    // @ts-expect-error: the contract names the views, so a typo is caught before it is sent
    body: { view: "4d" },
  });
  if (!submitted.data) throw new Error(submitted.error?.detail ?? "not submitted");
  const ahead: number | undefined = submitted.data.queue?.ahead;
  console.log(`${submitted.data.id} is ${submitted.data.state}, ${ahead ?? 0} ahead`);

  const render_id = submitted.data.id;
  const done = await client.GET("/v1/renders/{render_id}", {
    params: { path: { render_id }, header: { prefer: "wait=30" } },
  });
  const url: string | undefined = done.data?.result?.url;
  if (!url) throw new Error("no result yet");

  // The signed download, through the generated path: the key holds a "/", which openapi-fetch percent-encodes.
  const link = new URL(url);
  const file = await client.GET("/files/{key}", {
    params: {
      path: { key: decodeURIComponent(link.pathname.replace(/^\/files\//, "")) },
      query: { expires: Number(link.searchParams.get("expires")), sig: link.searchParams.get("sig") ?? "" },
    },
    parseAs: "blob",
  });
  if (!file.data) throw new Error("download failed");
  return file.data;
}
