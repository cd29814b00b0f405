-- wrk script: every request with the method, body and Content-Type given in the environment
-- (WRK_METHOD, WRK_BODY, WRK_CONTENT_TYPE), e.g. the POST /echo rows of `bun run bench`.
wrk.method = os.getenv("WRK_METHOD") or "GET"
local body = os.getenv("WRK_BODY")
if body and body ~= "" then wrk.body = body end
local contentType = os.getenv("WRK_CONTENT_TYPE")
if contentType and contentType ~= "" then wrk.headers["Content-Type"] = contentType end
