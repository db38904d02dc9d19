-- Blocks any source that sends more than LIMIT packets per second through the firewall program,
-- and logs each new source the kernel reports. Load it in xdp-lab-app with: lua flood-guard.lua
-- (after `load firewall.bpf.o IFACE`). FLOOD_LIMIT in the environment overrides the limit.
local LIMIT = tonumber(os.getenv("FLOOD_LIMIT") or "") or 50
local last = {}

function on_event(ev)
  lab.log(string.format("new source %s -> %s proto %d: %s", ev.src, ev.dst, ev.proto, ev.verdict))
end

function on_tick(stats, seconds)
  for ip, s in pairs(lab.sources()) do
    local rate = (s.packets - (last[ip] or s.packets)) / seconds
    last[ip] = s.packets
    if rate > LIMIT and not s.blocked then
      lab.log(string.format("%s sends %.0f packets/s (limit %d): blocking", ip, rate, LIMIT))
      lab.block(ip)
    end
  end
end
