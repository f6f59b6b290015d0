package redisstore

import "github.com/redis/go-redis/v9"

// Every state change that touches more than one key is one Lua script, so
// Redis applies it entirely or not at all and no other client sees a user
// half moved. Scripts read "now" with redis.call('TIME') so that every
// replica and every worker agree on one clock: the Redis server's.
//
// A user is in at most one of "due" and "leases" at any time. Scripts that
// would make a leased user due record it in "dirty" instead, and the
// script that releases the lease turns dirty back into due.

// luaPrelude defines helpers shared by the scripts. Numbers passed to
// redis.call go through num, because Lua's default conversion may print a
// 13-digit unix ms value in exponent notation.
const luaPrelude = `
local function num(n)
  return string.format('%.0f', n)
end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- keep_oldest stores value in a hash field unless the field already holds
-- an older (smaller) value.
local function keep_oldest(hash, field, value)
  local current = redis.call('HGET', hash, field)
  if not current or tonumber(value) < tonumber(current) then
    redis.call('HSET', hash, field, value)
  end
end

-- last_delivered returns the last-delivered-id of group on stream, or nil
-- when the stream or the group does not exist.
local function last_delivered(stream, group)
  local ok, groups = pcall(redis.call, 'XINFO', 'GROUPS', stream)
  if not ok then
    return nil
  end
  for _, g in ipairs(groups) do
    local name, last
    for i = 1, #g, 2 do
      if g[i] == 'name' then name = g[i + 1] end
      if g[i] == 'last-delivered-id' then last = g[i + 1] end
    end
    if name == group then
      return last
    end
  end
  return nil
end

-- due_by makes user due at the latest at time at: an earlier due time
-- stays.
local function due_by(due, user, at)
  local current = redis.call('ZSCORE', due, user)
  if not current or tonumber(current) > at then
    redis.call('ZADD', due, num(at), user)
  end
end

-- holds reports whether owner still holds the lease on user that a job
-- with deadline lease_until describes. The deadline must lie between the
-- one Claim set (claims) and the current one (leases), so a job from an
-- earlier claim by the same owner no longer matches.
local function holds(leases, owners, claims, user, owner, lease_until)
  if redis.call('HGET', owners, user) ~= owner then
    return false
  end
  local deadline = redis.call('ZSCORE', leases, user)
  local claimed = redis.call('HGET', claims, user)
  if not deadline or not claimed then
    return false
  end
  local t = tonumber(lease_until)
  return t >= tonumber(claimed) and t <= tonumber(deadline)
end

local function release(leases, owners, claims, user)
  redis.call('ZREM', leases, user)
  redis.call('HDEL', owners, user)
  redis.call('HDEL', claims, user)
end

-- keep_newest stores value in a hash field unless the field already holds
-- a newer (larger) value.
local function keep_newest(hash, field, value)
  local current = redis.call('HGET', hash, field)
  if not current or tonumber(value) > tonumber(current) then
    redis.call('HSET', hash, field, value)
  end
end

-- mark_due makes user due at time at, or marks it dirty with received
-- when it is leased, and records received as its newest notification.
local function mark_due(due, leases, dirty, notified, latest, user, at, received)
  if redis.call('ZSCORE', leases, user) then
    keep_oldest(dirty, user, received)
  else
    due_by(due, user, at)
    keep_oldest(notified, user, received)
  end
  keep_newest(latest, user, received)
end
`

func newScript(body string) *redis.Script { return redis.NewScript(luaPrelude + body) }

// scheduleScript moves a batch of inbox entries into the due set and
// acknowledges them in the same step, so a crash either leaves the batch
// pending in the consumer group (it is claimed again) or fully applied.
// ZADD NX keeps an existing due time: a burst of notifications does not
// push the sync later and coalesces into one sync.
//
// KEYS: inbox, due, leases, dirty, notified, latest.
// ARGV: group, debounce ms, then per entry: entry ID, received unix ms,
// the number of users n (0 for an entry without users, which is only
// acknowledged), then the n user IDs.
// Returns the number of entries acknowledged.
var scheduleScript = newScript(`
local inbox, due, leases, dirty, notified, latest = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local group = ARGV[1]
local due_at = num(now_ms() + tonumber(ARGV[2]))
local ids = {}
local i = 3
while i <= #ARGV do
  local id, received, n = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  ids[#ids + 1] = id
  for j = i + 3, i + 2 + n do
    local user = ARGV[j]
    if redis.call('ZSCORE', leases, user) then
      keep_oldest(dirty, user, received)
    else
      redis.call('ZADD', due, 'NX', due_at, user)
      keep_oldest(notified, user, received)
    end
    keep_newest(latest, user, received)
  end
  i = i + 3 + n
end
-- XACK in chunks: unpack of thousands of values overflows the Lua stack.
for k = 1, #ids, 500 do
  redis.call('XACK', inbox, group, unpack(ids, k, math.min(k + 499, #ids)))
end
return #ids
`)

// claimScript leases up to max users whose due time has come.
//
// With a threshold above zero, nothing is claimed when at least that many
// users are due, so that the caller resolves them in bulk instead. The
// count and the claim are one step, so no user slips in between.
//
// KEYS: due, leases, owners, claims, attempts, first_failure, notified,
// dirty, latest.
// ARGV: owner, max, lease ms, threshold (0 for none).
// Returns {deadline ms, {user, attempts, first failure ms, notified ms,
// latest ms, ...}} with "" for a missing value.
var claimScript = newScript(`
local due, leases, owners, claims = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local attempts, first_failure, notified, dirty, latest = KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local owner, max, lease = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local threshold = tonumber(ARGV[4] or '0')
local now = now_ms()
local deadline = num(now + lease)
if threshold > 0 and redis.call('ZCOUNT', due, '-inf', num(now)) >= threshold then
  return {deadline, {}}
end
local users = redis.call('ZRANGEBYSCORE', due, '-inf', num(now), 'LIMIT', 0, max)
local jobs = {}
for _, user in ipairs(users) do
  redis.call('ZREM', due, user)
  if redis.call('ZSCORE', leases, user) then
    -- A user is never due and leased at once; should it happen, the
    -- lease holder syncs it again after release instead of a second
    -- worker syncing it now.
    keep_oldest(dirty, user, num(now))
  else
    redis.call('ZADD', leases, deadline, user)
    redis.call('HSET', owners, user, owner)
    redis.call('HSET', claims, user, deadline)
    jobs[#jobs + 1] = user
    jobs[#jobs + 1] = redis.call('HGET', attempts, user) or ''
    jobs[#jobs + 1] = redis.call('HGET', first_failure, user) or ''
    jobs[#jobs + 1] = redis.call('HGET', notified, user) or ''
    jobs[#jobs + 1] = redis.call('HGET', latest, user) or ''
  end
end
return {deadline, jobs}
`)

// completeScript releases a lease after a successful sync and clears the
// failure bookkeeping. A user marked dirty during the lease becomes due
// again after the debounce.
//
// KEYS: leases, owners, claims, attempts, first_failure, last_error,
// notified, dirty, due, latest.
// ARGV: user, owner, lease until ms, debounce ms.
// Returns 1, or 0 when the lease is lost.
var completeScript = newScript(`
local leases, owners, claims = KEYS[1], KEYS[2], KEYS[3]
local attempts, first_failure, last_error = KEYS[4], KEYS[5], KEYS[6]
local notified, dirty, due, latest = KEYS[7], KEYS[8], KEYS[9], KEYS[10]
local user, owner, lease_until, debounce = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
if not holds(leases, owners, claims, user, owner, lease_until) then
  return 0
end
release(leases, owners, claims, user)
redis.call('HDEL', attempts, user)
redis.call('HDEL', first_failure, user)
redis.call('HDEL', last_error, user)
redis.call('HDEL', notified, user)
local received = redis.call('HGET', dirty, user)
if received then
  redis.call('HDEL', dirty, user)
  redis.call('HSET', notified, user, received)
  due_by(due, user, now_ms() + debounce)
else
  redis.call('HDEL', latest, user)
end
return 1
`)

// retryScript releases a lease after a failed attempt and makes the user
// due again at a given time. A dirty mark is folded into the retry,
// because the retry reads the user from Graph again anyway.
//
// KEYS: leases, owners, claims, attempts, first_failure, last_error,
// notified, dirty, due.
// ARGV: user, owner, lease until ms, retry at ms, last error.
// Returns 1, or 0 when the lease is lost.
var retryScript = newScript(`
local leases, owners, claims = KEYS[1], KEYS[2], KEYS[3]
local attempts, first_failure, last_error = KEYS[4], KEYS[5], KEYS[6]
local notified, dirty, due = KEYS[7], KEYS[8], KEYS[9]
local user, owner, lease_until, at, err = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if not holds(leases, owners, claims, user, owner, lease_until) then
  return 0
end
release(leases, owners, claims, user)
redis.call('HINCRBY', attempts, user, 1)
redis.call('HSETNX', first_failure, user, num(now_ms()))
redis.call('HSET', last_error, user, err)
local received = redis.call('HGET', dirty, user)
if received then
  redis.call('HDEL', dirty, user)
  keep_oldest(notified, user, received)
end
redis.call('ZADD', due, at, user)
return 1
`)

// deadLetterScript releases a lease, records a dead letter and clears the
// failure bookkeeping. A user marked dirty during the lease becomes due
// again after the debounce, because a newer notification deserves a fresh
// try.
//
// The user's earlier dead letter, if any, is replaced: an operator sees
// one entry per user, with the newest reason.
//
// KEYS: leases, owners, claims, attempts, first_failure, last_error,
// notified, dirty, due, dead, latest, dead index.
// ARGV: user, owner, lease until ms, reason, detail, attempts, debounce ms.
// Returns the dead letter's entry ID, or "" when the lease is lost.
var deadLetterScript = newScript(`
local leases, owners, claims = KEYS[1], KEYS[2], KEYS[3]
local attempts, first_failure, last_error = KEYS[4], KEYS[5], KEYS[6]
local notified, dirty, due, dead, latest, index = KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11], KEYS[12]
local user, owner, lease_until = ARGV[1], ARGV[2], ARGV[3]
local reason, detail, count, debounce = ARGV[4], ARGV[5], ARGV[6], tonumber(ARGV[7])
if not holds(leases, owners, claims, user, owner, lease_until) then
  return ''
end
local now = now_ms()
release(leases, owners, claims, user)
local id = redis.call('XADD', dead, '*', 'user', user, 'reason', reason,
  'detail', detail, 'attempts', count, 'at', num(now))
local previous = redis.call('HGET', index, user)
if previous then
  redis.call('XDEL', dead, previous)
end
redis.call('HSET', index, user, id)
redis.call('HDEL', attempts, user)
redis.call('HDEL', first_failure, user)
redis.call('HDEL', last_error, user)
redis.call('HDEL', notified, user)
local received = redis.call('HGET', dirty, user)
if received then
  redis.call('HDEL', dirty, user)
  redis.call('HSET', notified, user, received)
  due_by(due, user, now + debounce)
else
  redis.call('HDEL', latest, user)
end
return id
`)

// extendScript pushes a held lease's deadline to now + lease, never
// earlier than it already is.
//
// KEYS: leases, owners, claims.
// ARGV: user, owner, lease until ms, lease ms.
// Returns the new deadline in ms, or "" when the lease is lost.
var extendScript = newScript(`
local leases, owners, claims = KEYS[1], KEYS[2], KEYS[3]
local user, owner, lease_until, lease = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
if not holds(leases, owners, claims, user, owner, lease_until) then
  return ''
end
local deadline = now_ms() + lease
local current = tonumber(redis.call('ZSCORE', leases, user))
if current > deadline then
  deadline = current
end
redis.call('ZADD', leases, 'XX', num(deadline), user)
return num(deadline)
`)

// reclaimScript makes users whose lease deadline has passed due now,
// keeping their attempts. A dirty mark is folded in, because the next
// attempt reads the user again anyway.
//
// KEYS: leases, owners, claims, dirty, notified, due.
// ARGV: max users to reclaim.
// Returns the number of users reclaimed.
var reclaimScript = newScript(`
local leases, owners, claims = KEYS[1], KEYS[2], KEYS[3]
local dirty, notified, due = KEYS[4], KEYS[5], KEYS[6]
local now = now_ms()
local users = redis.call('ZRANGEBYSCORE', leases, '-inf', '(' .. num(now), 'LIMIT', 0, tonumber(ARGV[1]))
for _, user in ipairs(users) do
  release(leases, owners, claims, user)
  local received = redis.call('HGET', dirty, user)
  if received then
    redis.call('HDEL', dirty, user)
    keep_oldest(notified, user, received)
  end
  due_by(due, user, now)
end
return #users
`)

// retryDeadLetterScript deletes a dead letter and makes its user due now,
// or dirty when the user is leased.
//
// KEYS: dead, due, leases, dirty, notified, latest, dead index.
// ARGV: dead letter entry ID.
// Returns 1, or 0 when no such entry exists.
var retryDeadLetterScript = newScript(`
local dead, due, leases, dirty, notified, latest, index = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local entries = redis.call('XRANGE', dead, ARGV[1], ARGV[1])
if #entries == 0 then
  return 0
end
local fields = entries[1][2]
local user = ''
for i = 1, #fields, 2 do
  if fields[i] == 'user' then
    user = fields[i + 1]
  end
end
redis.call('XDEL', dead, ARGV[1])
if user ~= '' then
  if redis.call('HGET', index, user) == ARGV[1] then
    redis.call('HDEL', index, user)
  end
  local now = now_ms()
  mark_due(due, leases, dirty, notified, latest, user, now, num(now))
end
return 1
`)

// dropDeadLetterScript deletes a dead letter and its index entry.
//
// KEYS: dead, dead index.
// ARGV: dead letter entry ID.
// Returns 1, or 0 when no such entry exists.
var dropDeadLetterScript = newScript(`
local dead, index = KEYS[1], KEYS[2]
local entries = redis.call('XRANGE', dead, ARGV[1], ARGV[1])
if #entries == 0 then
  return 0
end
local fields = entries[1][2]
for i = 1, #fields, 2 do
  if fields[i] == 'user' and redis.call('HGET', index, fields[i + 1]) == ARGV[1] then
    redis.call('HDEL', index, fields[i + 1])
  end
end
redis.call('XDEL', dead, ARGV[1])
return 1
`)

// resolveDeadLetterScript deletes a user's dead letter after the user
// synced, because the failure it recorded no longer holds.
//
// KEYS: dead, dead index.
// ARGV: user.
// Returns 1 when a dead letter was deleted, else 0.
var resolveDeadLetterScript = newScript(`
local dead, index = KEYS[1], KEYS[2]
local id = redis.call('HGET', index, ARGV[1])
if not id then
  return 0
end
redis.call('HDEL', index, ARGV[1])
return redis.call('XDEL', dead, id)
`)

// replayScript makes users due now, or dirty when leased.
//
// KEYS: due, leases, dirty, notified, latest.
// ARGV: user IDs.
// Returns the number of users.
var replayScript = newScript(`
local due, leases, dirty, notified, latest = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local now = now_ms()
for _, user in ipairs(ARGV) do
  mark_due(due, leases, dirty, notified, latest, user, now, num(now))
end
return #ARGV
`)

// deleteDrainedStreamScript deletes a stream, with its consumer groups,
// once nothing in it is left to process or replay: it has no entry, or
// the group has read and acknowledged every entry and the newest is older
// than the retention. Checking and deleting in one script means no entry
// added in between is lost.
//
// KEYS: stream.
// ARGV: group name, retention ms.
// Returns 1 when the stream was deleted, otherwise 0.
var deleteDrainedStreamScript = newScript(`
local stream, group, retention = KEYS[1], ARGV[1], tonumber(ARGV[2])
if redis.call('EXISTS', stream) == 0 then
  return 0
end
if redis.call('XLEN', stream) > 0 then
  local delivered = last_delivered(stream, group)
  if not delivered or tonumber(redis.call('XPENDING', stream, group)[1]) > 0 then
    return 0
  end
  local newest = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)[1][1]
  if newest ~= delivered or tonumber(string.match(newest, '^(%d+)-')) > now_ms() - retention then
    return 0
  end
end
return redis.call('DEL', stream)
`)

// trimInboxScript drops inbox entries older than the retention, using the
// server's clock, but never an entry the scheduler group has not
// acknowledged: the cut stops at the group's oldest pending entry and at
// its last delivered ID. A stream without the group is not trimmed.
//
// KEYS: inbox.
// ARGV: retention ms, scheduler group name.
// Returns the number of entries removed.
var trimInboxScript = newScript(`
local function id_parts(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function id_less(a, b)
  local am, as = id_parts(a)
  local bm, bs = id_parts(b)
  if am ~= bm then return am < bm end
  return as < bs
end

local floor = last_delivered(KEYS[1], ARGV[2])
if not floor then
  return 0
end
local pending = redis.call('XPENDING', KEYS[1], ARGV[2])
if tonumber(pending[1]) > 0 and id_less(pending[2], floor) then
  floor = pending[2]
end
local min_id = num(now_ms() - tonumber(ARGV[1])) .. '-0'
if id_less(floor, min_id) then
  min_id = floor
end
return redis.call('XTRIM', KEYS[1], 'MINID', min_id)
`)

// pauseScript sets a pause unless one with a later deadline exists.
//
// KEYS: pause key.
// ARGV: duration ms.
// Returns the remaining pause in ms.
var pauseScript = newScript(`
local ms = tonumber(ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl >= ms then
  return ttl
end
redis.call('SET', KEYS[1], '1', 'PX', num(ms))
return ms
`)

// reserveScript takes one token from a GCRA limiter. The state is the
// theoretical arrival time (TAT) in unix µs: each reservation moves it one
// emission interval later, and a caller waits until TAT is at most
// (burst - 1) intervals ahead of now.
//
// KEYS: rate key.
// ARGV: emission interval µs, burst.
// Returns how long the caller must wait, in µs.
var reserveScript = newScript(`
local interval, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then
  tat = now
end
local wait = tat - now - (burst - 1) * interval
if wait < 0 then
  wait = 0
end
local next_tat = tat + interval
-- The state only matters until TAT; keep it a second longer.
local ttl_ms = math.ceil((next_tat - now) / 1000) + 1000
redis.call('SET', KEYS[1], num(next_tat), 'PX', num(ttl_ms))
return num(wait)
`)

// dueCountsScript counts due users whose time has come and those due
// later, by the server's clock.
//
// KEYS: due.
// Returns {due now, due later}.
var dueCountsScript = newScript(`
local now = num(now_ms())
return {redis.call('ZCOUNT', KEYS[1], '-inf', now), redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')}
`)
