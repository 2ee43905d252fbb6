"""The Lua scripts of the Redis coordinator: each lease and counting step is one atomic script.

Times come from Redis's own clock (TIME), so replicas with skewed clocks count the same window. Tokens are
handled as strings inside Lua (Lua 5.1 prints large numbers as 1.8e+15, losing digits); comparisons with
`tonumber` are exact below 2^53, and a token is at most about 1.8e15.
"""

from __future__ import annotations

FENCE_TTL_MS = 86_400_000  # a key's latest token is kept a day; past that the clock floor keeps tokens growing

# KEYS: lease, fence. ARGV: owner, ttl_ms. Returns the new token, or false while the lease is held.
ACQUIRE = f"""
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local t = redis.call('TIME')
local floor = t[1] .. string.format('%06d', tonumber(t[2]))
redis.call('INCR', KEYS[2])
local token = redis.call('GET', KEYS[2])
if tonumber(token) < tonumber(floor) then
  redis.call('SET', KEYS[2], floor)
  token = floor
end
redis.call('PEXPIRE', KEYS[2], {FENCE_TTL_MS})
redis.call('SET', KEYS[1], token .. '|' .. ARGV[1], 'PX', ARGV[2])
return token
"""

# KEYS: lease, fence. ARGV: value (token|owner), token, ttl_ms. 1: renewed; 0: a newer token exists.
# Expired (or lost in a restart of Redis) but not taken since: the token is still the latest, so it renews.
RENEW = f"""
local fence = redis.call('GET', KEYS[2])
if fence and tonumber(fence) > tonumber(ARGV[2]) then return 0 end
local held = redis.call('GET', KEYS[1])
if held and held ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
if (not fence) or tonumber(fence) < tonumber(ARGV[2]) then redis.call('SET', KEYS[2], ARGV[2]) end
redis.call('PEXPIRE', KEYS[2], {FENCE_TTL_MS})
return 1
"""

# KEYS: lease. ARGV: value. Deletes the lease only when it is still this holder's.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# KEYS: a sorted set of the counted ones' times (ms). ARGV: limit, window_ms, a unique member suffix.
# A sliding window: {allowed 1/0, count in the window, ms until the oldest leaves it when refused}.
ALLOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count >= tonumber(ARGV[1]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, count, tonumber(oldest[2]) + window - now}
end
redis.call('ZADD', KEYS[1], now, now .. '-' .. ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return {1, count + 1, 0}
"""
