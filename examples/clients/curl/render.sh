#!/usr/bin/env bash
# Render a plan with curl (and jq): create it, submit a render, follow its place in line on the event
# stream, download the result.
#   FLOORPLAN_URL=http://127.0.0.1:8000 FLOORPLAN_API_KEY=fp_... ./render.sh plan.json out.png
set -euo pipefail
plan_file=${1:?usage: render.sh PLAN.json OUT.png}
out=${2:?usage: render.sh PLAN.json OUT.png}
url=${FLOORPLAN_URL:-http://127.0.0.1:8000}
auth="Authorization: Bearer ${FLOORPLAN_API_KEY:?set FLOORPLAN_API_KEY}"
api() { curl -sS --fail-with-body -H "$auth" "$@"; }  # an error prints the problem body and fails

plan=$(api -H 'Content-Type: application/json' --data @"$plan_file" "$url/v1/plans")
plan_id=$(jq -r .id <<<"$plan")
echo "plan $plan_id ($(jq -r .name <<<"$plan"))"

job=$(api -H 'Content-Type: application/json' -H "Idempotency-Key: $(date +%s%N)-$$" \
      --data '{"view": "2d", "format": "png", "width": 800, "height": 600, "cache": false}' \
      "$url/v1/plans/$plan_id/renders")
id=$(jq -r .id <<<"$job")
echo "render $id"

# Server-sent events: one `data:` line (the render as JSON) per change; the server closes after the end.
api -N -H 'Accept: text/event-stream' "$url/v1/renders/$id/stream" | while IFS= read -r line; do
  case $line in
    data:*) jq -r 'if .queue then "\(.state): \(.queue.ahead) ahead, ETA \(.queue.eta_seconds) s" else .state end' \
              <<<"${line#data:}" ;;
  esac
done

job=$(api "$url/v1/renders/$id")  # fresh, so its download link is too
state=$(jq -r .state <<<"$job")
if [ "$state" != succeeded ]; then
  echo "render $state: $(jq -r '.error.message // ""' <<<"$job")" >&2
  exit 1
fi
curl -sS --fail-with-body -o "$out" "$(jq -r .result.url <<<"$job")"  # a signed link: no key needed
echo "saved $out ($(wc -c <"$out") bytes)"
