//! The shared store: several instances behind one address keep their
//! lists in one Redis, or a Redis Cluster, which orders every change of
//! each list.
//!
//! # Why the `redis` crate
//! It is the maintained Rust client, speaks to Redis from tokio, and has
//! the four parts this needs: multiplexed connections, scripts sent by SHA
//! with a fallback to loading them (`EVALSHA`), streams, and a cluster
//! client that routes by slot. Nothing here needs a pool: one connection
//! carries every write of an instance, and each list's change feed has
//! its own (its `XREAD BLOCK` would otherwise hold the writes up).
//!
//! # Deadlines
//! Every command and every connection attempt has one
//! (`--redis-timeout-ms`), so a Redis that stops answering without closing
//! (a partition, a frozen process) is noticed, never waited on. How a
//! failed connection is replaced, on one server and on a cluster, is
//! `redis_link`'s to say.
//!
//! # Keys
//! A list's keys all share the hash tag `{roster:<list>}`, so they land in
//! one slot, the scripts stay valid on Redis Cluster, and a cluster
//! spreads lists (not one list's keys) over its shards. For list `team-a`
//! that is `{roster:team-a}:epoch` and so on:
//! - `…:epoch`: names this history; set when the list is created. The
//!   list exists while this key does.
//! - `…:version`: the version of the last change (`INCR`ed by each).
//! - `…:next_id`: the last user id given out (ids are never reused).
//! - `…:users`: a hash of user id → the user as JSON.
//! - `…:order`: a sorted set of user ids, scored by the version
//!   that added each: the list's order. Ids are given out before the
//!   version is taken, so two instances adding at once can commit id 8
//!   before id 7; sorting by id then put a reloaded instance's list in
//!   another order than the changes its clients had applied (found by the
//!   chaos test, `tests/e2e/specs/chaos.spec.js`). Users from before this
//!   key existed come first, by id.
//! - `…:changes`: a stream of changes, entry id `<version>-0`, field
//!   `c` the change as JSON; trimmed to about `--change-log` entries.
//! - `…:request:<epoch>:<id>`: a hash (`f` fingerprint, `c` change) kept
//!   24 h, so a retried request gets its first answer. The epoch keeps a
//!   list deleted and created again from answering the old list's
//!   requests.
//!
//! One key is not a list's: `roster:lists`, a sorted set of every list's
//! name (all scored 0, so it is in name order for paging). It is written
//! after a list's epoch on create and before its keys go on delete, so it
//! never names a list that is not there for longer than a delete takes.
//! Stores from before lists kept `default`'s keys under `{roster}`; they
//! are renamed on start (on a single Redis; a cluster cannot rename across
//! slots, so it must start empty or be moved by hand).
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
use redis::{Script, ScriptInvocation, Value};
use roster_protocol::v1::Change;
use roster_protocol::validate::RequestId;
use roster_protocol::{User, UserId};

use roster_protocol::ListName;

use super::redis_link::Writes;
use super::{new_epoch, ListFigures, Loaded, StoreError, StoredRequest};

/// How long a stored request id answers retries.
const REQUEST_TTL_SECONDS: u64 = 24 * 60 * 60;

/// How long one `XREAD` waits for a change before asking again. The feed
/// hears from Redis at least this often, so a silent Redis is noticed
/// within this plus the command deadline (2.5 s by default). Two idle
/// questions a second per instance cost Redis nothing worth counting.
pub const FEED_BLOCK: Duration = Duration::from_millis(500);

/// Every list's name (see the module docs).
const KEY_CATALOG: &str = "roster:lists";

/// The parts of a list's key names after its hash tag.
const PARTS: [&str; 6] = ["epoch", "version", "next_id", "users", "order", "changes"];

/// One list's keys.
#[derive(Clone, Debug)]
struct Keys {
    /// `{roster:<list>}`.
    tag: String,
    list: ListName,
}

impl Keys {
    fn of(list: &ListName) -> Self {
        Self {
            tag: format!("{{roster:{list}}}"),
            list: list.clone(),
        }
    }

    fn key(&self, part: &str) -> String {
        format!("{}:{part}", self.tag)
    }

    fn epoch(&self) -> String {
        self.key("epoch")
    }
    fn version(&self) -> String {
        self.key("version")
    }
    fn next_id(&self) -> String {
        self.key("next_id")
    }
    fn users(&self) -> String {
        self.key("users")
    }
    fn order(&self) -> String {
        self.key("order")
    }
    fn changes(&self) -> String {
        self.key("changes")
    }

    fn request(&self, epoch: &str, id: &RequestId) -> String {
        format!("{}:request:{epoch}:{id}", self.tag)
    }
}

/// KEYS: version, users, changes, request, order, epoch. Every key is in
/// the list's slot, the request's too when there is none (a cluster
/// refuses a script whose keys span slots).
/// ARGV: user id, the user as JSON, fingerprint, request TTL, stream
/// length, the epoch the writer knows (another one means the list was
/// deleted, and perhaps created again, since the writer loaded it), and
/// `1` when the request is named (its record is kept).
const ADD_SCRIPT: &str = r#"
if redis.call('GET', KEYS[6]) ~= ARGV[6] then return {'no_list'} end
local named = ARGV[7] == '1'
if named then
  local stored = redis.call('HMGET', KEYS[4], 'f', 'c')
  if stored[1] then return {'replayed', stored[1], stored[2]} end
end
local version = redis.call('INCR', KEYS[1])
local change = '{"version":' .. version .. ',"op":"added","user":' .. ARGV[2] .. '}'
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], version .. '-0', 'c', change)
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[5], version, ARGV[1])
if named then
  redis.call('HSET', KEYS[4], 'f', ARGV[3], 'c', change)
  redis.call('EXPIRE', KEYS[4], ARGV[4])
end
return {'done', change}
"#;

/// KEYS: version, users, changes, request, order, epoch (as for adds).
/// ARGV: user id, fingerprint, request TTL, stream length, the epoch the
/// writer knows, and `1` when the request is named.
const REMOVE_SCRIPT: &str = r#"
if redis.call('GET', KEYS[6]) ~= ARGV[5] then return {'no_list'} end
local named = ARGV[6] == '1'
if named then
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
if named then
  redis.call('HSET', KEYS[4], 'f', ARGV[2], 'c', change)
  redis.call('EXPIRE', KEYS[4], ARGV[3])
end
return {'done', change}
"#;

/// The whole state at one instant, or nil when the list does not exist.
/// KEYS: epoch, version, next_id, users, order.
const LOAD_SCRIPT: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
return {
  redis.call('GET', KEYS[1]),
  redis.call('GET', KEYS[2]) or '0',
  redis.call('GET', KEYS[3]) or '0',
  redis.call('HVALS', KEYS[4]),
  redis.call('ZRANGE', KEYS[5], 0, -1),
}
"#;

/// Creates a list unless its epoch is there, clearing what a deleted list
/// of the same name left (its stream's last entry). KEYS: [`PARTS`].
/// ARGV: the new epoch.
const CREATE_SCRIPT: &str = r#"
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
  redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6])
  return 1
end
return 0
"#;

/// Deletes a list's keys but its stream, which gets a last entry
/// (`deleted`) for the instances following it and then expires.
/// KEYS: [`PARTS`].
const DELETE_SCRIPT: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local version = tonumber(redis.call('GET', KEYS[2]) or '0')
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
redis.call('XADD', KEYS[6], (version + 1) .. '-0', 'deleted', '1')
redis.call('EXPIRE', KEYS[6], 60)
return 1
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
    /// The list is gone (deleted while the write was on its way).
    NoSuchList,
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
    create: Script,
    delete: Script,
    /// Stream entries kept (`MAXLEN ~`).
    change_log: u64,
    /// The list this store reads and writes.
    keys: Keys,
}

impl RedisStore {
    /// Connects to `url` (`redis://host:port/db`); each command and
    /// connection attempt may take up to `timeout`.
    pub async fn connect(
        url: &str,
        change_log: u64,
        timeout: Duration,
    ) -> Result<Self, StoreError> {
        Self::over(Writes::single(url, timeout)?, change_log, timeout).await
    }

    /// Connects to the Redis Cluster that `seeds` (`redis://host:port`)
    /// belong to.
    pub async fn connect_cluster(
        seeds: &[String],
        change_log: u64,
        timeout: Duration,
    ) -> Result<Self, StoreError> {
        Self::over(Writes::cluster(seeds, timeout)?, change_log, timeout).await
    }

    async fn over(writes: Writes, change_log: u64, timeout: Duration) -> Result<Self, StoreError> {
        // Fails at start, as before, when Redis cannot be reached.
        writes.connection().await?;
        Ok(Self {
            writes: std::sync::Arc::new(writes),
            timeout,
            add: Script::new(ADD_SCRIPT),
            remove: Script::new(REMOVE_SCRIPT),
            load: Script::new(LOAD_SCRIPT),
            create: Script::new(CREATE_SCRIPT),
            delete: Script::new(DELETE_SCRIPT),
            change_log: change_log.max(1),
            keys: Keys::of(&ListName::default_list()),
        })
    }

    /// Whether this is a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        self.writes.is_cluster()
    }

    /// The same connection, for list `name`.
    pub fn list(&self, name: &ListName) -> Self {
        Self {
            keys: Keys::of(name),
            ..self.clone()
        }
    }

    /// The list this store is for.
    pub fn name(&self) -> &ListName {
        &self.keys.list
    }

    /// Creates this store's list, empty, with a new epoch; `false` when it
    /// already exists.
    pub async fn create(&self) -> Result<bool, StoreError> {
        let mut invocation = self.list_script(&self.create);
        invocation.arg(new_epoch());
        let created: bool = self
            .writes
            .run(async |con| invocation.invoke_async(con).await)
            .await?;
        self.writes
            .run(async |con| {
                redis::cmd("ZADD")
                    .arg(KEY_CATALOG)
                    .arg(0)
                    .arg(self.keys.list.as_str())
                    .query_async::<()>(con)
                    .await
            })
            .await?;
        Ok(created)
    }

    /// Deletes this store's list: out of the catalog, then its keys, with
    /// a last entry on its stream that tells every instance following it
    /// (the request records expire on their own); `false` when it was not
    /// there.
    pub async fn delete(&self) -> Result<bool, StoreError> {
        self.writes
            .run(async |con| {
                redis::cmd("ZREM")
                    .arg(KEY_CATALOG)
                    .arg(self.keys.list.as_str())
                    .query_async::<()>(con)
                    .await
            })
            .await?;
        let invocation = self.list_script(&self.delete);
        self.writes
            .run(async |con| invocation.invoke_async(con).await)
            .await
    }

    /// `script` with every key of this store's list, in [`PARTS`]' order.
    fn list_script<'a>(&self, script: &'a Script) -> ScriptInvocation<'a> {
        let mut invocation = script.prepare_invoke();
        for part in PARTS {
            invocation.key(self.keys.key(part));
        }
        invocation
    }

    /// Whether this store's list exists.
    pub async fn exists(&self) -> Result<bool, StoreError> {
        self.writes
            .run(async |con| {
                redis::cmd("EXISTS")
                    .arg(self.keys.epoch())
                    .query_async(con)
                    .await
            })
            .await
    }

    /// How many lists exist.
    pub async fn count(&self) -> Result<u64, StoreError> {
        self.writes
            .run(async |con| redis::cmd("ZCARD").arg(KEY_CATALOG).query_async(con).await)
            .await
    }

    /// Up to `limit` lists whose names come after `after`, in name order,
    /// with each one's figures, keeping those `keep` says.
    pub async fn page(
        &self,
        after: &str,
        limit: usize,
        keep: &(dyn Fn(&ListName) -> bool + Sync),
    ) -> Result<Vec<ListFigures>, StoreError> {
        let mut page = Vec::new();
        let mut from = after.to_owned();
        while page.len() < limit {
            let start = if from.is_empty() {
                "-".to_owned()
            } else {
                format!("({from}")
            };
            let names: Vec<String> = self
                .writes
                .run(async |con| {
                    redis::cmd("ZRANGE")
                        .arg(KEY_CATALOG)
                        .arg(&start)
                        .arg("+")
                        .arg("BYLEX")
                        .arg("LIMIT")
                        .arg(0)
                        .arg(limit)
                        .query_async(con)
                        .await
                })
                .await?;
            let Some(last) = names.last() else { break };
            from = last.clone();
            for name in &names {
                let Ok(name) = ListName::parse(name) else {
                    continue;
                };
                if !keep(&name) || page.len() == limit {
                    continue;
                }
                let keys = Keys::of(&name);
                let (version, users): (Option<u64>, u64) = self
                    .writes
                    .run(async |con| {
                        redis::pipe()
                            .cmd("GET")
                            .arg(keys.version())
                            .cmd("HLEN")
                            .arg(keys.users())
                            .query_async(con)
                            .await
                    })
                    .await?;
                page.push(ListFigures {
                    name,
                    users,
                    version: version.unwrap_or(0),
                });
            }
        }
        Ok(page)
    }

    /// Renames the keys of a store from before lists (`{roster}:…`) to
    /// the list `default`'s, unless `default` already has keys of its
    /// own. Single Redis only: a cluster cannot rename across slots.
    pub async fn adopt_single_list_keys(&self) -> Result<bool, StoreError> {
        let default = Keys::of(&ListName::default_list());
        let (old, new): (bool, bool) = self
            .writes
            .run(async |con| {
                redis::pipe()
                    .cmd("EXISTS")
                    .arg("{roster}:epoch")
                    .cmd("EXISTS")
                    .arg(default.epoch())
                    .query_async(con)
                    .await
            })
            .await?;
        if !old || new {
            return Ok(false);
        }
        for part in PARTS {
            let from = format!("{{roster}}:{part}");
            let to = default.key(part);
            self.writes
                .run(async |con| {
                    // A part never written (no order yet) is not there.
                    if redis::cmd("EXISTS")
                        .arg(&from)
                        .query_async::<bool>(con)
                        .await?
                    {
                        redis::cmd("RENAME")
                            .arg(&from)
                            .arg(&to)
                            .query_async::<()>(con)
                            .await?;
                    }
                    Ok(())
                })
                .await?;
        }
        tracing::info!("renamed the keys of a single-list store to the list `default`'s");
        Ok(true)
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
        let mut invocation = self.load.key(self.keys.epoch());
        invocation
            .key(self.keys.version())
            .key(self.keys.next_id())
            .key(self.keys.users())
            .key(self.keys.order());
        let reply: Option<Reply> = self
            .writes
            .run(async |con| invocation.invoke_async(con).await)
            .await?;
        let Some((epoch, version, last_id, users, order)) = reply else {
            return Err(StoreError::NoSuchList(self.keys.list.clone()));
        };
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
                    .arg(self.keys.epoch())
                    .arg(self.keys.version())
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
            .run(async |con| {
                redis::cmd("INCR")
                    .arg(self.keys.next_id())
                    .query_async(con)
                    .await
            })
            .await
    }

    /// Adds `user` (whose id came from [`Self::next_id`]) as the next
    /// change. `epoch` is the list's, as this instance knows it: the
    /// request's record is kept under it.
    pub async fn add(
        &self,
        user: &User,
        request: Option<&RequestId>,
        fingerprint: &str,
        epoch: &str,
    ) -> Result<Written, StoreError> {
        let json = serde_json::to_string(user).map_err(|err| {
            StoreError::Unreadable(format!("a user that cannot be written: {err}"))
        })?;
        let mut invocation = write_script(&self.add, &self.keys, request.map(|id| (epoch, id)));
        invocation.arg(user.id.as_str()).arg(json).arg(fingerprint);
        self.write(&mut invocation, request, epoch).await
    }

    /// Removes user `id` as the next change (`epoch` as in [`Self::add`]).
    pub async fn remove(
        &self,
        id: &UserId,
        request: Option<&RequestId>,
        fingerprint: &str,
        epoch: &str,
    ) -> Result<Written, StoreError> {
        let mut invocation = write_script(&self.remove, &self.keys, request.map(|id| (epoch, id)));
        invocation.arg(id.as_str()).arg(fingerprint);
        self.write(&mut invocation, request, epoch).await
    }

    /// Runs a write script with its last arguments, the request record's
    /// lifetime and the stream's length.
    async fn write(
        &self,
        invocation: &mut ScriptInvocation<'_>,
        request: Option<&RequestId>,
        epoch: &str,
    ) -> Result<Written, StoreError> {
        invocation
            .arg(REQUEST_TTL_SECONDS)
            .arg(self.change_log)
            .arg(epoch)
            .arg(u8::from(request.is_some()));
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
                    .arg(self.keys.changes())
                    .arg(format!("{}-0", since + 1))
                    .arg(format!("{until}-0"))
                    .query_async(con)
                    .await
            })
            .await?;
        let changes = reply
            .ids
            .iter()
            .map(|entry| entry_change(&self.keys.list, &entry.id, &entry.map))
            .collect::<Result<Vec<_>, _>>()?;
        let complete = changes.len() as u64 == until - since
            && changes
                .first()
                .is_some_and(|first| first.version == since + 1);
        Ok(complete.then_some(changes))
    }

    /// Whether the Redis that holds this list answers (on a cluster,
    /// the shard of its slot; a `PING` would go to every shard).
    pub async fn check(&self) -> Result<(), StoreError> {
        self.exists().await.map(drop)
    }

    /// The deadline of each command: the change feed counts as current
    /// while it has heard from Redis within [`FEED_BLOCK`] and this.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// A connection for this list's change feed alone, to the node that
    /// holds it, whose replies may take as long as an `XREAD BLOCK`.
    pub async fn feed(&self) -> Result<Feed, StoreError> {
        let changes = self.keys.changes();
        let connection = self
            .writes
            .connection_for(&changes, FEED_BLOCK + self.timeout)
            .await?;
        Ok(Feed {
            connection,
            list: self.keys.list.clone(),
            changes,
        })
    }
}

/// `script` with the keys every write script takes: the version, the
/// users, the stream, and the request's record ("" for none).
fn write_script<'a>(
    script: &'a Script,
    keys: &Keys,
    request: Option<(&str, &RequestId)>,
) -> ScriptInvocation<'a> {
    let mut invocation = script.key(keys.version());
    invocation
        .key(keys.users())
        .key(keys.changes())
        .key(
            request
                .map(|(epoch, id)| keys.request(epoch, id))
                .unwrap_or_else(|| keys.key("request:-")),
        )
        .key(keys.order())
        .key(keys.epoch());
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
    list: ListName,
    /// The list's stream.
    changes: String,
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
            .arg(&self.changes)
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
            .map(|entry| entry_change(&self.list, &entry.id, &entry.map))
            .collect()
    }
}

fn parse_change(json: &str) -> Result<Change, StoreError> {
    serde_json::from_str(json)
        .map_err(|err| StoreError::Unreadable(format!("a change Roster cannot read: {err}")))
}

/// The change in one stream entry, checked against its entry id.
fn entry_change(
    list: &ListName,
    id: &str,
    fields: &std::collections::HashMap<String, Value>,
) -> Result<Change, StoreError> {
    if fields.contains_key("deleted") {
        return Err(StoreError::NoSuchList(list.clone()));
    }
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
        [no_list] if no_list == "no_list" => Ok(Written::NoSuchList),
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
