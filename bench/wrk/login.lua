-- Login flood: POST /security/user/authenticate with HTTP Basic auth, the
-- way Wazuh clients log in. User and password come from WRK_USER and
-- WRK_PASSWORD (default wazuh/wazuh). At the end it prints how many answers
-- had each status, so that a 401 or 429 storm cannot pass for throughput.
--
--   wrk -t2 -c32 -d10s --latency --timeout 10s -s bench/wrk/login.lua https://127.0.0.1:55000

local user = os.getenv("WRK_USER") or "wazuh"
local password = os.getenv("WRK_PASSWORD") or "wazuh"

-- base64 of "user:password" (wrk's LuaJIT has no base64 library).
local function b64(s)
  local chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  return ((s:gsub(".", function(x)
    local r, b = "", x:byte()
    for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and "1" or "0") end
    return r
  end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
    if #x < 6 then return "" end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
    return chars:sub(c + 1, c + 1)
  end) .. ({ "", "==", "=" })[#s % 3 + 1])
end

wrk.method = "POST"
wrk.path = "/security/user/authenticate"
wrk.headers["Authorization"] = "Basic " .. b64(user .. ":" .. password)

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    for code, n in pairs(s) do total[code] = (total[code] or 0) + n end
  end
  local parts = {}
  for code, n in pairs(total) do table.insert(parts, code .. "=" .. n) end
  table.sort(parts)
  io.write("statuses: " .. table.concat(parts, " ") .. "\n")
end
