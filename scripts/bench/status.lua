-- wrk script: counts responses by HTTP status and prints one line `STATUS {"200":n,...}`.
-- Each wrk thread has its own Lua state; `counts` is a global so done() can read it per thread.
counts = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local c = t:get("counts")
    if c then
      for k, v in pairs(c) do total[k] = (total[k] or 0) + v end
    end
  end
  local parts = {}
  for k, v in pairs(total) do table.insert(parts, string.format('"%d":%d', k, v)) end
  io.write("STATUS {" .. table.concat(parts, ",") .. "}\n")
end
