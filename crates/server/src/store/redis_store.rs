//! The shared store: several instances behind one address keep the list in
//! one Redis, which orders every change.
//!
//! # Why the `redis` crate
//! It is the maintained Rust client, speaks to Redis from tokio, and has
//! the three parts this needs: multiplexed connections, scripts sent by SHA
//! with a fallback to loading them (`EVALSHA`), and streams. Nothing here
//! needs a pool: one multiplexed connection carries every write of an
//! instance, and the change feed has its own (its `XREAD BLOCK` would
//! otherwise hold the writes up).
//!
//! # Deadlines
//! Every command and every connection attempt has one
//! (`--redis-timeout-ms`), so a Redis that stops answering without closing
//! (a partition, a frozen process) is noticed, never waited on. A
//! connection whose command failed other than by Redis' own answer is
//! dropped and the next command makes a new one ([`Writes`]): the `redis`
//! crate's `ConnectionManager` keeps a connection after a timeout (redis
//! 1.8 counts it `RetryImmediately`, not a reason to reconnect), and after
//! a long partition that connection's TCP retransmissions are far apart,
//! so writes could go on failing long after Redis answered again.
//!
//! # Keys
//! All share the hash tag `{roster}`, so they land in one slot and the
//! scripts stay valid on Redis Cluster:
//! - `{roster}:epoch`: names this history; set once, by whoever starts first.
//! - `{roster}:version`: the version of the last change (`INCR`ed by each).
//! - `{roster}:next_id`: the last user id given out (ids are never reused).
//! - `{roster}:users`: a hash of user id → the user as JSON.
//! - `{roster}:order`: a sorted set of user ids, scored by the version
//!   that added each: the list's order. Ids are given out before the
//!   version is taken, so two instances adding at once can commit id 8
//!   before id 7; sorting by id then put a reloaded instance's list in
//!   another order than the changes its clients had applied (found by the
//!   chaos test, `tests/e2e/specs/chaos.spec.js`). Users from before this
//!   key existed come first, by id.
//! - `{roster}:changes`: a stream of changes, entry id `<version>-0`, field
//!   `c` the change as JSON; trimmed to about `--change-log` entries.
//! - `{roster}:request:<id>`: a hash (`f` fingerprint, `c` change) kept
//!   24 h, so a retried request gets its first answer.
//!
//! # One atomic step per change
//! A Lua script checks the request id, takes the next version, appends the
//! change to the stream and updates the users hash (and records the
//! request). Redis runs a script alone, so versions go up by one per
//! change, in one order for every instance. A failed script is not rolled
//! back, so everything that can be refused is checked before it runs
//! (names and emails are validated by the caller; the script's only
//! refusal, an unknown user, comes before its first write).

use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::streams::{StreamRangeReply, StreamReadReply};
use redis::{AsyncConnectionConfig, Script, ScriptInvocation, Value};
use roster_protocol::v1::Change;
use roster_protocol::validate::RequestId;
use roster_protocol::{User, UserId};

use super::{new_epoch, Loaded, StoreError, StoredRequest};

/// How long a stored request id answers retries.
const REQUEST_TTL_SECONDS: u64 = 24 * 60 * 60;

/// How long one `XREAD` waits for a change before asking again. The feed
/// hears from Redis at least this often, so a silent Redis is noticed
/// within this plus the command deadline (2.5 s by default). Two idle
/// questions a second per instance cost Redis nothing worth counting.
pub const FEED_BLOCK: Duration = Duration::from_millis(500);

const KEY_EPOCH: &str = "{roster}:epoch";
const KEY_VERSION: &str = "{roster}:version";
const KEY_NEXT_ID: &str = "{roster}:next_id";
const KEY_USERS: &str = "{roster}:users";
pub const KEY_CHANGES: &str = "{roster}:changes";
const KEY_ORDER: &str = "{roster}:order";

fn request_key(id: &RequestId) -> String {
    format!("{{roster}}:request:{id}")
}

/// KEYS: version, users, changes, request (or "" for none), order.
/// ARGV: user id, the user as JSON, fingerprint, request TTL, stream length.
const ADD_SCRIPT: &str = r#"
if KEYS[4] ~= '' then
  local stored = redis.call('HMGET', KEYS[4], 'f', 'c')
  if stored[1] then return {'replayed', stored[1], stored[2]} end
end
local version = redis.call('INCR', KEYS[1])
local change = '{"version":' .. version .. ',"op":"added","user":' .. ARGV[2] .. '}'
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], version .. '-0', 'c', change)
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[5], version, ARGV[1])
if KEYS[4] ~= '' then
  redis.call('HSET', KEYS[4], 'f', ARGV[3], 'c', change)
  redis.call('EXPIRE', KEYS[4], ARGV[4])
end
return {'done', change}
"#;

/// KEYS: version, users, changes, request (or ""), order.
/// ARGV: user id, fingerprint, request TTL, stream length.
const REMOVE_SCRIPT: &str = r#"
if KEYS[4] ~= '' then
  local stored = redis.call('HMGET', KEYS[4], 'f', 'c')
  if stored[1] then return {'replayed', stored[1], stored[2]} end
end
local user = redis.call('HGET', KEYS[2], ARGV[1])
if not user then return {'missing'} end
local version = redis.call('INCR', KEYS[1])
local change = '{"version":' .. version .. ',"op":"removed","user":' .. user .. '}'
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], version .. '-0', 'c', change)
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[5], ARGV[1])
if KEYS[4] ~= '' then
  redis.call('HSET', KEYS[4], 'f', ARGV[2], 'c', change)
  redis.call('EXPIRE', KEYS[4], ARGV[3])
end
return {'done', change}
"#;

/// The whole state at one instant. KEYS: epoch, version, next_id, users,
/// order. ARGV: an epoch to set if there is none yet.
const LOAD_SCRIPT: &str = r#"
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return {
  redis.call('GET', KEYS[1]),
  redis.call('GET', KEYS[2]) or '0',
  redis.call('GET', KEYS[3]) or '0',
  redis.call('HVALS', KEYS[4]),
  redis.call('ZRANGE', KEYS[5], 0, -1),
}
"#;

/// What Redis promises about an acknowledged write, read from its
/// configuration at start-up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Durability {
    /// `appendonly yes` with `appendfsync always`: on disk before Redis
    /// answers.
    Always,
    /// Anything else: an answered write can still be lost.
    Unsafe {
        appendonly: String,
        appendfsync: String,
    },
}

impl Durability {
    /// In words, for logs and `/healthz`.
    pub fn describe(&self) -> String {
        match self {
            Self::Always => "appendonly yes, appendfsync always".to_owned(),
            Self::Unsafe {
                appendonly,
                appendfsync,
            } => format!(
                "appendonly {appendonly}, appendfsync {appendfsync}: an acknowledged change can be lost"
            ),
        }
    }
}

/// How a script's write ended.
#[derive(Debug)]
pub enum Written {
    /// The change it made.
    Done(Change),
    /// The request id was used before: what it was used for, and the
    /// change it made then.
    Replayed(StoredRequest),
    /// A remove of a user who is not there.
    Missing,
}

/// The connection every write and read of an instance shares, made again
/// after any failure (see the module docs, "Deadlines").
struct Writes {
    client: redis::Client,
    config: AsyncConnectionConfig,
    /// The connection, numbered so that a command failing on an old one
    /// never drops its replacement.
    current: tokio::sync::Mutex<(u64, Option<MultiplexedConnection>)>,
}

impl Writes {
    /// The live connection and its number, or a new one.
    async fn connection(&self) -> Result<(u64, MultiplexedConnection), StoreError> {
        let mut current = self.current.lock().await;
        if let (number, Some(connection)) = &*current {
            return Ok((*number, connection.clone()));
        }
        let connection = self
            .client
            .get_multiplexed_async_connection_with_config(&self.config)
            .await
            .map_err(StoreError::from)?;
        current.0 += 1;
        current.1 = Some(connection.clone());
        Ok((current.0, connection))
    }

    /// Runs `command` on the shared connection; a failure other than
    /// Redis' own answer (a timeout, a dropped connection) drops it, so
    /// the next command starts on a new one.
    async fn run<T>(
        &self,
        command: impl AsyncFnOnce(&mut MultiplexedConnection) -> redis::RedisResult<T>,
    ) -> Result<T, StoreError> {
        let (number, mut connection) = self.connection().await?;
        let result = command(&mut connection).await;
        if let Err(err) = &result {
            if !matches!(err.kind(), redis::ErrorKind::Server(_)) {
                let mut current = self.current.lock().await;
                if current.0 == number {
                    current.1 = None;
                }
            }
        }
        result.map_err(StoreError::from)
    }
}

/// The shared store's writing side; see the module docs.
#[derive(Clone)]
pub struct RedisStore {
    writes: std::sync::Arc<Writes>,
    /// The deadline for each command and connection attempt.
    timeout: Duration,
    add: Script,
    remove: Script,
    load: Script,
    /// Stream entries kept (`MAXLEN ~`).
    change_log: u64,
}

impl RedisStore {
    /// Connects to `url` (`redis://host:port/db`); each command and
    /// connection attempt may take up to `timeout`.
    pub async fn connect(
        url: &str,
        change_log: u64,
        timeout: Duration,
    ) -> Result<Self, StoreError> {
        let client = redis::Client::open(url)?;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout));
        let writes = Writes {
            client,
            config,
            current: tokio::sync::Mutex::new((0, None)),
        };
        // Fails at start, as before, when Redis cannot be reached.
        writes.connection().await?;
        Ok(Self {
            writes: std::sync::Arc::new(writes),
            timeout,
            add: Script::new(ADD_SCRIPT),
            remove: Script::new(REMOVE_SCRIPT),
            load: Script::new(LOAD_SCRIPT),
            change_log: change_log.max(1),
        })
    }

    /// Reads `appendonly` and `appendfsync` (`CONFIG GET`).
    pub async fn durability(&self) -> Result<Durability, StoreError> {
        let setting = async |name: &str| -> Result<String, StoreError> {
            let pair: Vec<String> = self
                .writes
                .run(async |con| {
                    redis::cmd("CONFIG")
                        .arg("GET")
                        .arg(name)
                        .query_async(con)
                        .await
                })
                .await?;
            Ok(pair.get(1).cloned().unwrap_or_default())
        };
        let appendonly = setting("appendonly").await?;
        let appendfsync = setting("appendfsync").await?;
        Ok(if appendonly == "yes" && appendfsync == "always" {
            Durability::Always
        } else {
            Durability::Unsafe {
                appendonly,
                appendfsync,
            }
        })
    }

    /// The whole list at one instant, setting the epoch if this is the
    /// first instance ever.
    pub async fn load(&self) -> Result<Loaded, StoreError> {
        type Reply = (String, String, String, Vec<String>, Vec<String>);
        let mut invocation = self.load.key(KEY_EPOCH);
        invocation
            .key(KEY_VERSION)
            .key(KEY_NEXT_ID)
            .key(KEY_USERS)
            .key(KEY_ORDER)
            .arg(new_epoch());
        let (epoch, version, last_id, users, order): Reply = self
            .writes
            .run(async |con| invocation.invoke_async(con).await)
            .await?;
        let number = |text: &str| {
            text.parse::<u64>()
                .map_err(|_| StoreError::Unreadable(format!("{text:?} where a number belongs")))
        };
        let mut users = users
            .iter()
            .map(|json| serde_json::from_str::<User>(json))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| StoreError::Unreadable(format!("a user Roster cannot read: {err}")))?;
        sort_in_added_order(&mut users, &order);
        Ok(Loaded {
            epoch,
            version: number(&version)?,
            next_id: number(&last_id)? + 1,
            users,
        })
    }

    /// Redis' epoch and version (`MGET`): enough to tell whether it is
    /// still the history this instance holds.
    pub async fn load_head(&self) -> Result<(String, u64), StoreError> {
        let (epoch, version): (Option<String>, Option<u64>) = self
            .writes
            .run(async |con| {
                redis::cmd("MGET")
                    .arg(KEY_EPOCH)
                    .arg(KEY_VERSION)
                    .query_async(con)
                    .await
            })
            .await?;
        Ok((epoch.unwrap_or_default(), version.unwrap_or(0)))
    }

    /// Gives out the next user id. Ids an add then does not use (a retry
    /// got its first answer, or Redis failed) are skipped, never reused.
    pub async fn next_id(&self) -> Result<u64, StoreError> {
        self.writes
            .run(async |con| redis::cmd("INCR").arg(KEY_NEXT_ID).query_async(con).await)
            .await
    }

    /// Adds `user` (whose id came from [`Self::next_id`]) as the next change.
    pub async fn add(
        &self,
        user: &User,
        request: Option<&RequestId>,
        fingerprint: &str,
    ) -> Result<Written, StoreError> {
        let json = serde_json::to_string(user).map_err(|err| {
            StoreError::Unreadable(format!("a user that cannot be written: {err}"))
        })?;
        let mut invocation = write_script(&self.add, request);
        invocation.arg(user.id.as_str()).arg(json).arg(fingerprint);
        self.write(&mut invocation, request).await
    }

    /// Removes user `id` as the next change.
    pub async fn remove(
        &self,
        id: &UserId,
        request: Option<&RequestId>,
        fingerprint: &str,
    ) -> Result<Written, StoreError> {
        let mut invocation = write_script(&self.remove, request);
        invocation.arg(id.as_str()).arg(fingerprint);
        self.write(&mut invocation, request).await
    }

    /// Runs a write script with its last arguments, the request record's
    /// lifetime and the stream's length.
    async fn write(
        &self,
        invocation: &mut ScriptInvocation<'_>,
        request: Option<&RequestId>,
    ) -> Result<Written, StoreError> {
        invocation.arg(REQUEST_TTL_SECONDS).arg(self.change_log);
        let reply: Vec<String> = self
            .writes
            .run(async |con| invocation.invoke_async(con).await)
            .await?;
        written(reply, request)
    }

    /// The changes after `since` up to and including `until`, if the
    /// stream still holds every one of them (`XRANGE`).
    pub async fn changes_between(
        &self,
        since: u64,
        until: u64,
    ) -> Result<Option<Vec<Change>>, StoreError> {
        if until <= since {
            return Ok(Some(Vec::new()));
        }
        let reply: StreamRangeReply = self
            .writes
            .run(async |con| {
                redis::cmd("XRANGE")
                    .arg(KEY_CHANGES)
                    .arg(format!("{}-0", since + 1))
                    .arg(format!("{until}-0"))
                    .query_async(con)
                    .await
            })
            .await?;
        let changes = reply
            .ids
            .iter()
            .map(|entry| entry_change(&entry.id, &entry.map))
            .collect::<Result<Vec<_>, _>>()?;
        let complete = changes.len() as u64 == until - since
            && changes
                .first()
                .is_some_and(|first| first.version == since + 1);
        Ok(complete.then_some(changes))
    }

    /// Whether Redis answers (`PING`).
    pub async fn check(&self) -> Result<(), StoreError> {
        self.writes
            .run(async |con| redis::cmd("PING").query_async::<String>(con).await)
            .await
            .map(drop)
    }

    /// The deadline of each command: the change feed counts as current
    /// while it has heard from Redis within [`FEED_BLOCK`] and this.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// A connection for the change feed alone, whose replies may take as
    /// long as an `XREAD BLOCK`.
    pub async fn feed(&self) -> Result<Feed, StoreError> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(FEED_BLOCK + self.timeout));
        let connection = self
            .writes
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(StoreError::from)?;
        Ok(Feed { connection })
    }
}

/// `script` with the keys every write script takes: the version, the
/// users, the stream, and the request's record ("" for none).
fn write_script<'a>(script: &'a Script, request: Option<&RequestId>) -> ScriptInvocation<'a> {
    let mut invocation = script.key(KEY_VERSION);
    invocation
        .key(KEY_USERS)
        .key(KEY_CHANGES)
        .key(request.map(request_key).unwrap_or_default())
        .key(KEY_ORDER);
    invocation
}

/// Puts `users` in the order their adds were committed: `order` lists
/// their ids by version. Users it does not name (stored before the order
/// was kept) come first, by id, as that was the order then.
fn sort_in_added_order(users: &mut [User], order: &[String]) {
    let rank: std::collections::HashMap<&str, usize> = order
        .iter()
        .enumerate()
        .map(|(rank, id)| (id.as_str(), rank))
        .collect();
    users.sort_by_cached_key(|user| {
        let id = user.id.as_str();
        match rank.get(id) {
            Some(&rank) => (1, rank as u64),
            None => (0, id.parse::<u64>().unwrap_or(u64::MAX)),
        }
    });
}

/// Reads the stream of changes, in order.
pub struct Feed {
    connection: MultiplexedConnection,
}

impl Feed {
    /// The changes after version `after`, oldest first, waiting up to
    /// [`FEED_BLOCK`] for one (`XREAD BLOCK`); empty when none came.
    pub async fn next(&mut self, after: u64) -> Result<Vec<Change>, StoreError> {
        let reply: Option<StreamReadReply> = redis::cmd("XREAD")
            .arg("COUNT")
            .arg(512)
            .arg("BLOCK")
            .arg(FEED_BLOCK.as_millis() as u64)
            .arg("STREAMS")
            .arg(KEY_CHANGES)
            .arg(format!("{after}-0"))
            .query_async(&mut self.connection)
            .await
            .map_err(StoreError::from)?;
        let Some(reply) = reply else {
            return Ok(Vec::new());
        };
        reply
            .keys
            .iter()
            .flat_map(|key| &key.ids)
            .map(|entry| entry_change(&entry.id, &entry.map))
            .collect()
    }
}

fn parse_change(json: &str) -> Result<Change, StoreError> {
    serde_json::from_str(json)
        .map_err(|err| StoreError::Unreadable(format!("a change Roster cannot read: {err}")))
}

/// The change in one stream entry, checked against its entry id.
fn entry_change(
    id: &str,
    fields: &std::collections::HashMap<String, Value>,
) -> Result<Change, StoreError> {
    let json: String = fields
        .get("c")
        .and_then(|value| redis::from_redis_value_ref(value).ok())
        .ok_or_else(|| StoreError::Unreadable(format!("stream entry {id} without a change")))?;
    let change = parse_change(&json)?;
    if id != format!("{}-0", change.version) {
        return Err(StoreError::Unreadable(format!(
            "stream entry {id} with version {}",
            change.version
        )));
    }
    Ok(change)
}

/// A script's reply: `done` with the change, `replayed` with the stored
/// fingerprint and change, or `missing`.
fn written(reply: Vec<String>, request: Option<&RequestId>) -> Result<Written, StoreError> {
    match reply.as_slice() {
        [done, change] if done == "done" => Ok(Written::Done(parse_change(change)?)),
        [replayed, fingerprint, change] if replayed == "replayed" => {
            Ok(Written::Replayed(StoredRequest {
                id: request.cloned().ok_or_else(|| {
                    StoreError::Unreadable("a replay without a request id".into())
                })?,
                fingerprint: fingerprint.clone(),
                change: parse_change(change)?,
            }))
        }
        [missing] if missing == "missing" => Ok(Written::Missing),
        other => Err(StoreError::Unreadable(format!(
            "a script reply Roster does not know: {other:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users(ids: &[u64]) -> Vec<User> {
        ids.iter()
            .map(|&id| User {
                id: UserId::from(id),
                name: String::new(),
                email: String::new(),
            })
            .collect()
    }

    #[test]
    fn users_load_in_the_order_their_adds_were_committed_older_ones_first_by_id() {
        let mut loaded = users(&[1, 2, 3, 4, 5, 6]);
        // 1 and 3 were stored before the order was kept.
        let order = ["5", "2", "6", "4"].map(String::from);
        sort_in_added_order(&mut loaded, &order);
        let ids: Vec<_> = loaded.iter().map(|u| u.id.to_string()).collect();
        assert_eq!(ids, ["1", "3", "5", "2", "6", "4"]);
    }
}
