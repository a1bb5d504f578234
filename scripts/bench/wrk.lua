-- wrk script for scripts/bench/main.ts: one file serves every scenario, the method and
-- body come from the environment and the headers from wrk's -H flags. It defines
-- no request() function, so wrk formats the request once instead of per request.
wrk.method = os.getenv("VAI_BENCH_METHOD") or "GET"
local body = os.getenv("VAI_BENCH_BODY")
if body ~= nil and body ~= "" then
  wrk.body = body
end

-- A public route limited per client address (the leak reports): each request comes from
-- another address, as from many reporters behind the trusted local proxy. Formatted per
-- request, which costs wrk, not the server.
if os.getenv("VAI_BENCH_VARY_CLIENT") == "1" then
  local headers = {}
  request = function()
    for name, value in pairs(wrk.headers) do headers[name] = value end
    headers["X-Forwarded-For"] = "10." .. math.random(0, 255) .. "." .. math.random(0, 255) .. "." .. math.random(1, 254)
    return wrk.format(nil, nil, headers)
  end
end
