-- wrk script for scripts/bench/main.ts: one file serves every scenario, the method and
-- body come from the environment and the headers from wrk's -H flags. It defines
-- no request() function, so wrk formats the request once instead of per request.
wrk.method = os.getenv("VAI_BENCH_METHOD") or "GET"
local body = os.getenv("VAI_BENCH_BODY")
if body ~= nil and body ~= "" then
  wrk.body = body
end
