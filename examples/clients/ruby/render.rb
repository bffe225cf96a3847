#!/usr/bin/env ruby
# frozen_string_literal: true

# Render a plan from Ruby with Net::HTTP alone: create it, submit a render, follow its place in line on the
# event stream, download the result, and (with WEBHOOK_PORT set) verify the signed webhook the service sends
# when it is done, with a Rack-style app (mount WebhookVerifier in any Rack server: `run WebhookVerifier.new(...)`).
#
#   FLOORPLAN_URL=http://127.0.0.1:8000 FLOORPLAN_API_KEY=fp_... ruby render.rb plan.json out.png
#
# WEBHOOK_PORT: listen there for the webhook; WEBHOOK_URL: the address the service posts to (default
# http://127.0.0.1:$WEBHOOK_PORT/hook; the service must be allowed to post to it).
require "base64"
require "json"
require "net/http"
require "openssl"
require "securerandom"
require "socket"
require "stringio"
require "timeout"
require "uri"

BASE = URI(ENV.fetch("FLOORPLAN_URL", "http://127.0.0.1:8000"))
KEY = ENV.fetch("FLOORPLAN_API_KEY")
TERMINAL = %w[succeeded failed canceled].freeze

# Standard Webhooks: `webhook-signature` holds `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` entries.
class WebhookVerifier
  TOLERANCE_S = 300

  def initialize(secret, &on_event)
    @key = Base64.strict_decode64(secret.delete_prefix("whsec_"))
    @on_event = on_event
  end

  def call(env)
    body = env["rack.input"].read
    id, stamp = env["HTTP_WEBHOOK_ID"].to_s, env["HTTP_WEBHOOK_TIMESTAMP"].to_s
    return [400, {}, ["stale or missing timestamp\n"]] if (Time.now.to_i - stamp.to_i).abs > TOLERANCE_S

    expected = Base64.strict_encode64(OpenSSL::HMAC.digest("SHA256", @key, "#{id}.#{stamp}.#{body}"))
    signed = env["HTTP_WEBHOOK_SIGNATURE"].to_s.split(" ").any? do |entry|
      version, signature = entry.split(",", 2)
      version == "v1" && OpenSSL.secure_compare(signature.to_s, expected)
    end
    return [400, {}, ["bad signature\n"]] unless signed

    @on_event.call(JSON.parse(body))
    [204, {}, []]
  end
end

# Just enough of an HTTP server to hand each request to a Rack app (use Puma or WEBrick in real life).
def serve_rack(app, port)
  server = TCPServer.new("127.0.0.1", port)
  Thread.new do
    loop do
      client = server.accept
      request_line = client.gets.to_s
      env = { "REQUEST_METHOD" => request_line.split[0], "PATH_INFO" => request_line.split[1] }
      while (line = client.gets) && line != "\r\n"
        name, value = line.split(":", 2)
        env["HTTP_#{name.strip.upcase.tr('-', '_')}"] = value.strip
      end
      env["rack.input"] = StringIO.new(client.read(env["HTTP_CONTENT_LENGTH"].to_i))
      status, _headers, body = app.call(env)
      text = body.join
      client.write("HTTP/1.1 #{status} OK\r\nContent-Length: #{text.bytesize}\r\nConnection: close\r\n\r\n#{text}")
      client.close
    end
  end
end

def api(http, request)
  request["Authorization"] = "Bearer #{KEY}"
  response = http.request(request)
  body = JSON.parse(response.body)
  raise "#{response.code} #{body['title']}: #{body['detail']}" unless response.is_a?(Net::HTTPSuccess)

  body
end

def post_json(path, body, headers = {})
  request = Net::HTTP::Post.new(path, { "Content-Type" => "application/json" }.merge(headers))
  request.body = body
  request
end

def show(job)
  queue = job["queue"]
  puts(queue ? "#{job['state']}: #{queue['ahead']} ahead, ETA #{queue['eta_seconds']} s" : job["state"])
end

# Server-sent events: the render as JSON in each event's `data`; the server closes after the final state.
def follow(http, id)
  last_id, job = nil, nil
  until job && TERMINAL.include?(job["state"])
    request = Net::HTTP::Get.new("/v1/renders/#{id}/stream", "Accept" => "text/event-stream")
    request["Authorization"] = "Bearer #{KEY}"
    request["Last-Event-ID"] = last_id if last_id
    buffer = +""
    http.request(request) do |response|
      return api(http, Net::HTTP::Get.new("/v1/renders/#{id}")) if response.code == "204"

      response.read_body do |chunk|
        buffer << chunk
        while (event = buffer.slice!(/\A.*?\n\n/m))
          fields = event.lines.map(&:chomp).reject(&:empty?).to_h do |line|
            name, value = line.split(":", 2)
            [name, value.to_s.delete_prefix(" ")]
          end
          next unless fields["data"]

          last_id, job = fields["id"], JSON.parse(fields["data"])
          show(job)
        end
      end
    end
  end
  job
end

plan_file, out = ARGV
Net::HTTP.start(BASE.host, BASE.port, use_ssl: BASE.scheme == "https", read_timeout: 60) do |http|
  webhooks = Queue.new
  port = ENV.fetch("WEBHOOK_PORT", "0").to_i
  if port.positive?
    secret = api(http, Net::HTTP::Get.new("/v1/webhooks/secret"))["secret"]
    serve_rack(WebhookVerifier.new(secret) { |payload| webhooks << payload }, port)
  end

  plan = api(http, post_json("/v1/plans", File.read(plan_file)))
  puts "plan #{plan['id']} (#{plan['name']})"
  request = { view: "2d", format: "png", width: 800, height: 600, cache: false }
  request[:webhook] = { url: ENV.fetch("WEBHOOK_URL", "http://127.0.0.1:#{port}/hook") } if port.positive?
  job = api(http, post_json("/v1/plans/#{plan['id']}/renders", request.to_json,
                            "Idempotency-Key" => SecureRandom.uuid))
  puts "render #{job['id']}"
  follow(http, job["id"])

  job = api(http, Net::HTTP::Get.new("/v1/renders/#{job['id']}")) # fresh, so its download link is too
  abort "render #{job['state']}: #{job.dig('error', 'message')}" unless job["state"] == "succeeded"
  download = Net::HTTP.get_response(URI(job["result"]["url"])) # a signed link: no key needed
  abort "download: #{download.code}" unless download.is_a?(Net::HTTPSuccess)
  File.binwrite(out, download.body)
  puts "saved #{out} (#{download.body.bytesize} bytes)"

  if port.positive?
    payload = Timeout.timeout(60) { webhooks.pop }
    puts "webhook verified: #{payload['type']} #{payload['data']['id']} #{payload['data']['state']}"
  end
end
