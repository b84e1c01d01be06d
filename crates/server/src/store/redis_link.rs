//! The connections to Redis: one server (`--redis`) or a Redis Cluster
//! (`--redis-cluster`), for the writes every list of an instance shares,
//! and one blocking connection per list for its change feed.
//!
//! # One server
//! One multiplexed connection carries every write. A command that fails
//! other than by Redis' own answer (a timeout, a dropped connection)
//! drops it and the next command makes a new one: the `redis` crate's
//! `ConnectionManager` keeps a connection after a timeout (redis 1.8
//! counts it `RetryImmediately`, not a reason to reconnect), and after a
//! long partition that connection's TCP retransmissions are far apart, so
//! writes could go on failing long after Redis answered again.
//!
//! # A cluster
//! The `redis` crate's cluster connection routes each command by its key's
//! slot and keeps one connection per shard, reconnecting and refreshing
//! its slot map by itself, so a shard that stops fails only the commands
//! for its slots. It is never dropped for a failed command: making a new
//! one waits on every shard, the stopped one included, and would hold up
//! the writes of lists on the others.
//!
//! # Feeds
//! A feed's `XREAD BLOCK` holds its connection for up to
//! [`super::FEED_BLOCK`], so each list has its own, to the node that owns
//! the list's slot. On a cluster that node is found by asking a seed
//! about the list's stream and following its `MOVED` answer, so nothing
//! here computes slots or parses the cluster's topology.

use std::time::Duration;

use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{AsyncConnectionConfig, Cmd, Pipeline, RedisFuture, Value};

use super::StoreError;

/// Where Redis is.
enum Target {
    Single(redis::Client),
    Cluster {
        client: Box<ClusterClient>,
        /// The seed nodes, for finding the node a feed reads from.
        seeds: Vec<redis::Client>,
    },
}

/// A connection that commands go through, to one server or to a cluster.
#[derive(Clone)]
pub enum Connection {
    Single(MultiplexedConnection),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(connection) => connection.req_packed_command(cmd),
            Self::Cluster(connection) => connection.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(connection) => connection.req_packed_commands(pipeline, offset, count),
            Self::Cluster(connection) => connection.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(connection) => connection.get_db(),
            Self::Cluster(connection) => connection.get_db(),
        }
    }
}

/// The connection every write and read of an instance shares (see the
/// module docs).
pub struct Writes {
    target: Target,
    /// Deadlines of each command and connection attempt.
    timeout: Duration,
    /// The connection, numbered so that a command failing on an old one
    /// never drops its replacement.
    current: tokio::sync::Mutex<(u64, Option<Connection>)>,
}

impl Writes {
    /// To one Redis at `url` (`redis://host:port/db`).
    pub fn single(url: &str, timeout: Duration) -> Result<Self, StoreError> {
        Ok(Self::to(Target::Single(redis::Client::open(url)?), timeout))
    }

    /// To the Redis Cluster that `seeds` (`redis://host:port`) are nodes
    /// of; the others are found from them.
    pub fn cluster(seeds: &[String], timeout: Duration) -> Result<Self, StoreError> {
        let client = ClusterClient::builder(seeds.iter().map(String::as_str))
            .connection_timeout(timeout)
            .response_timeout(timeout)
            .build()?;
        let seeds = seeds
            .iter()
            .map(|url| redis::Client::open(url.as_str()))
            .collect::<Result<_, _>>()?;
        Ok(Self::to(
            Target::Cluster {
                client: Box::new(client),
                seeds,
            },
            timeout,
        ))
    }

    fn to(target: Target, timeout: Duration) -> Self {
        Self {
            target,
            timeout,
            current: tokio::sync::Mutex::new((0, None)),
        }
    }

    pub fn is_cluster(&self) -> bool {
        matches!(self.target, Target::Cluster { .. })
    }

    fn config(&self, response: Duration) -> AsyncConnectionConfig {
        AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(response))
    }

    async fn connect(&self) -> redis::RedisResult<Connection> {
        Ok(match &self.target {
            Target::Single(client) => Connection::Single(
                client
                    .get_multiplexed_async_connection_with_config(&self.config(self.timeout))
                    .await?,
            ),
            Target::Cluster { client, .. } => {
                Connection::Cluster(client.get_async_connection().await?)
            }
        })
    }

    /// The live connection and its number, or a new one.
    pub async fn connection(&self) -> Result<(u64, Connection), StoreError> {
        let mut current = self.current.lock().await;
        if let (number, Some(connection)) = &*current {
            return Ok((*number, connection.clone()));
        }
        let connection = self.connect().await.map_err(StoreError::from)?;
        current.0 += 1;
        current.1 = Some(connection.clone());
        Ok((current.0, connection))
    }

    /// Runs `command` on the shared connection; on one server, a failure
    /// other than Redis' own answer drops the connection, so the next
    /// command starts on a new one.
    pub async fn run<T>(
        &self,
        command: impl AsyncFnOnce(&mut Connection) -> redis::RedisResult<T>,
    ) -> Result<T, StoreError> {
        let (number, mut connection) = self.connection().await?;
        let result = command(&mut connection).await;
        if let Err(err) = &result {
            if !self.is_cluster() && !matches!(err.kind(), redis::ErrorKind::Server(_)) {
                let mut current = self.current.lock().await;
                if current.0 == number {
                    current.1 = None;
                }
            }
        }
        result.map_err(StoreError::from)
    }

    /// A connection of its own to the node that holds `key`, whose
    /// replies may take `response` (an `XREAD BLOCK` and its deadline).
    pub async fn connection_for(
        &self,
        key: &str,
        response: Duration,
    ) -> Result<MultiplexedConnection, StoreError> {
        let config = self.config(response);
        let seeds = match &self.target {
            Target::Single(client) => {
                return client
                    .get_multiplexed_async_connection_with_config(&config)
                    .await
                    .map_err(StoreError::from);
            }
            Target::Cluster { seeds, .. } => seeds,
        };
        let mut last = None;
        for seed in seeds {
            let mut client = seed.clone();
            // A seed answers for its own slots, or names the node that
            // owns the key's (`MOVED <slot> <host>:<port>`).
            for _ in 0..3 {
                let mut connection = match client
                    .get_multiplexed_async_connection_with_config(&config)
                    .await
                {
                    Ok(connection) => connection,
                    Err(err) => {
                        last = Some(err);
                        break;
                    }
                };
                let asked: redis::RedisResult<String> = redis::cmd("TYPE")
                    .arg(key)
                    .query_async(&mut connection)
                    .await;
                match asked {
                    Ok(_) => return Ok(connection),
                    Err(err) => {
                        let Some((node, _)) = err.redirect_node() else {
                            last = Some(err);
                            break;
                        };
                        client = redis::Client::open(format!("redis://{node}"))?;
                        last = Some(err);
                    }
                }
            }
        }
        Err(last.map_or_else(
            || StoreError::Other("no Redis Cluster seed given".into()),
            StoreError::from,
        ))
    }
}
