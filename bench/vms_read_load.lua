-- wrk script of bench/vms_read_load.py: hands out the URLs of a file in turn, starting at a
-- given line, and counts the answers by X-Cache and status.
-- Arguments (after `--`): the file of URLs (one path a line), the 0-based line to start at.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  urls = {}
  for line in io.lines(args[1]) do
    if line ~= "" then
      table.insert(urls, line)
    end
  end
  position = tonumber(args[2]) or 0
  issued, misses, hits, not_ok = 0, 0, 0, 0
end

function request()
  local url = urls[(position % #urls) + 1]
  position = position + 1
  issued = issued + 1
  return wrk.format("GET", url)
end

function response(status, headers, body)
  if status ~= 200 then
    not_ok = not_ok + 1
  end
  local cache = headers["x-cache"] or headers["X-Cache"]
  if cache == "miss" then
    misses = misses + 1
  elseif cache == "hit" then
    hits = hits + 1
  end
end

function done(summary, latency, requests)
  local totals = {issued = 0, misses = 0, hits = 0, not_ok = 0}
  for _, thread in ipairs(threads) do
    for name, _ in pairs(totals) do
      totals[name] = totals[name] + thread:get(name)
    end
  end
  for _, name in ipairs({"issued", "misses", "hits", "not_ok"}) do
    io.write(string.format("%s=%d\n", name, totals[name]))
  end
end
