-- wrk script: POST one chat completion per request, shaped by environment variables so one script
-- serves every target.
--   LT_MODEL    model to ask for (default gpt-4o)
--   LT_STREAM   "true" to ask for a stream (with usage in the last chunk)
--   LT_HEADERS  extra headers, "name: value" pairs separated by "|" (auth, Portkey's routing)
local model = os.getenv("LT_MODEL") or "gpt-4o"
local stream = os.getenv("LT_STREAM") == "true"

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
for pair in string.gmatch(os.getenv("LT_HEADERS") or "", "[^|]+") do
  local name, value = string.match(pair, "^%s*([^:]+):%s*(.-)%s*$")
  if name then wrk.headers[name] = value end
end

local body = '{"model":"' .. model .. '","messages":[{"role":"user","content":' ..
  '"Say hello to the load test in one short sentence."}],"max_tokens":32'
if stream then
  body = body .. ',"stream":true,"stream_options":{"include_usage":true}'
end
wrk.body = body .. '}'
