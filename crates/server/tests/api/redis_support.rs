//! A real `redis-server` for the shared-store tests, on a free loopback
//! port with AOF on (`appendfsync always`), and instances on it.
//! (`process::ServerProcess::on_redis` runs one as its own process.)

use std::process::{Child, Command, Stdio};

use roster_server::Config;

use crate::helpers::{eventually, TestApp};
use crate::process::free_port;

/// A `redis-server` process with its own data directory.
pub struct RedisServer {
    pub port: u16,
    dir: tempfile::TempDir,
    settings: Vec<String>,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts one that fsyncs every write (`appendfsync always`).
    pub async fn start() -> Self {
        Self::start_with(&["--appendonly", "yes", "--appendfsync", "always"]).await
    }

    /// Starts one with these extra settings.
    pub async fn start_with(settings: &[&str]) -> Self {
        let mut redis = Self {
            port: free_port(),
            dir: tempfile::tempdir().unwrap(),
            settings: settings.iter().map(|s| (*s).to_owned()).collect(),
            child: None,
        };
        redis.run().await;
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Starts the process (again, on the same port and data).
    pub async fn run(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(self.dir.path())
            .args(["--save", "", "--protected-mode", "no", "--daemonize", "no"])
            .args(&self.settings)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| {
                panic!(
                    "cannot start redis-server ({err}); `scripts/bootstrap.sh --test` installs it"
                )
            });
        self.child = Some(child);
        let url = self.url();
        let up = eventually(async || {
            let client = redis::Client::open(url.as_str()).ok()?;
            let mut con = client.get_multiplexed_async_connection().await.ok()?;
            redis::cmd("PING")
                .query_async::<String>(&mut con)
                .await
                .ok()
        })
        .await;
        assert!(up.is_some(), "redis-server answers on port {}", self.port);
    }

    /// `kill -9`: no shutdown, no final fsync.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Deletes everything Redis keeps on disk (call it while stopped): a
    /// Redis that comes back without its data.
    pub fn wipe(&self) {
        for entry in std::fs::read_dir(self.dir.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                std::fs::remove_dir_all(path).unwrap();
            } else {
                std::fs::remove_file(path).unwrap();
            }
        }
    }

    /// A plain connection, to look at what Redis holds.
    pub async fn connection(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The settings of an instance on `redis`.
pub fn shared_config(redis: &RedisServer) -> Config {
    Config {
        redis: Some(redis.url()),
        ..Config::default()
    }
}

/// An instance in this process on `redis`.
pub async fn instance(redis: &RedisServer) -> TestApp {
    TestApp::spawn_with(shared_config(redis)).await
}

/// An instance on `redis` with no write rate limit.
pub async fn unlimited_instance(redis: &RedisServer) -> TestApp {
    TestApp::spawn_with(Config {
        write_rate: 1e6,
        write_burst: 1_000,
        ..shared_config(redis)
    })
    .await
}

/// A Redis Cluster of three primaries (no replicas) on free loopback
/// ports, each with AOF on, made the way an operator makes one:
/// `redis-server --cluster-enabled yes` three times, then
/// `redis-cli --cluster create`. `cluster-require-full-coverage no`, so
/// that a stopped shard takes down only its own slots.
pub struct RedisCluster {
    pub nodes: Vec<RedisServer>,
}

impl RedisCluster {
    pub async fn start() -> Self {
        let mut nodes = Vec::new();
        for _ in 0..3 {
            let bus = free_port().to_string();
            let settings = [
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                "2000",
                "--cluster-require-full-coverage",
                "no",
                "--cluster-port",
                &bus,
            ];
            nodes.push(RedisServer::start_with(&settings).await);
        }
        let addresses: Vec<String> = nodes
            .iter()
            .map(|node| format!("127.0.0.1:{}", node.port))
            .collect();
        let created = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addresses)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .expect("redis-cli runs; `scripts/bootstrap.sh --test` installs it");
        assert!(
            created.status.success(),
            "redis-cli --cluster create: {}",
            String::from_utf8_lossy(&created.stderr)
        );
        let cluster = Self { nodes };
        cluster.until_ok().await;
        cluster
    }

    /// The seed URLs, as `--redis-cluster` takes them.
    pub fn seeds(&self) -> Vec<String> {
        self.nodes
            .iter()
            .map(|node| format!("redis://127.0.0.1:{}", node.port))
            .collect()
    }

    /// Waits until every running node says `cluster_state:ok` and knows
    /// which node holds every slot.
    pub async fn until_ok(&self) {
        for node in self.nodes.iter().filter(|node| node.is_running()) {
            let ok = eventually(async || {
                let mut con = node.try_connection().await?;
                let info: String = redis::cmd("CLUSTER")
                    .arg("INFO")
                    .query_async(&mut con)
                    .await
                    .ok()?;
                (info.contains("cluster_state:ok") && info.contains("cluster_slots_assigned:16384"))
                    .then_some(())
            })
            .await;
            assert!(ok.is_some(), "cluster node {} is ok", node.port);
        }
    }

    /// Which node (an index into `nodes`) holds `key`.
    pub async fn node_of(&self, key: &str) -> usize {
        let mut con = self.nodes[0].connection().await;
        let slot: u16 = redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(key)
            .query_async(&mut con)
            .await
            .unwrap();
        let shards: Vec<(u16, u16, Vec<redis::Value>)> = {
            let slots: Vec<Vec<redis::Value>> = redis::cmd("CLUSTER")
                .arg("SLOTS")
                .query_async(&mut con)
                .await
                .unwrap();
            slots
                .into_iter()
                .map(|range| {
                    let start: u16 = redis::from_redis_value(range[0].clone()).unwrap();
                    let end: u16 = redis::from_redis_value(range[1].clone()).unwrap();
                    let node: Vec<redis::Value> =
                        redis::from_redis_value(range[2].clone()).unwrap();
                    (start, end, node)
                })
                .collect()
        };
        let (_, _, node) = shards
            .iter()
            .find(|(start, end, _)| (*start..=*end).contains(&slot))
            .expect("every slot is assigned");
        let port: u16 = redis::from_redis_value(node[1].clone()).unwrap();
        self.nodes
            .iter()
            .position(|candidate| candidate.port == port)
            .expect("a node of this cluster")
    }
}

impl RedisServer {
    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// A plain connection, if it answers.
    pub async fn try_connection(&self) -> Option<redis::aio::MultiplexedConnection> {
        redis::Client::open(self.url())
            .ok()?
            .get_multiplexed_async_connection()
            .await
            .ok()
    }
}
