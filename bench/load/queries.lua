-- wrk script for bench/load/run.sh: cycles through a file of queries,
-- one per line as "L<TAB>query" (L = 1: plain words, sent with literal=1;
-- L = 0: the query language: phrases, +required, -excluded).  Every
-- request is formatted once in init(); each wrk thread starts at its own
-- place in the list so the threads do not send the same query together.

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local counter = 0
local threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("thread_no", counter)
  table.insert(threads, thread)
end

local requests = {}
local next_req = 1

function init(args)
  local path = args[1]
  local k = args[2] or "10"
  local f = assert(io.open(path, "r"))
  for line in f:lines() do
    local literal, q = line:match("^([01])\t(.+)$")
    if q then
      local target = "/search?q=" .. urlencode(q) .. "&k=" .. k
      if literal == "1" then target = target .. "&literal=1" end
      table.insert(requests, wrk.format("GET", target))
    end
  end
  f:close()
  assert(#requests > 0, "no queries in " .. path)
  next_req = ((thread_no or 1) - 1) * math.floor(#requests / 7) % #requests + 1
end

function request()
  local r = requests[next_req]
  next_req = next_req % #requests + 1
  return r
end
