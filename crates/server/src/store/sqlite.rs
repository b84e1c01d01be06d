//! The default store: one SQLite file (or `:memory:`).
//!
//! Each commit is one transaction that writes the change to the log, applies
//! it to the users table, bumps the version and records the request, with
//! `synchronous=FULL` so it is on disk before the caller acknowledges it.

use std::time::{SystemTime, UNIX_EPOCH};

use roster_protocol::v1::{Change, ChangeOp};
use roster_protocol::validate::RequestId;
use roster_protocol::{User, UserId};
use rusqlite::{params, Connection, OptionalExtension};

use super::{new_epoch, Loaded, Store, StoreError, StoredRequest};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    id    INTEGER PRIMARY KEY,
    name  TEXT NOT NULL,
    email TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS changes (
    version INTEGER PRIMARY KEY,
    op      TEXT NOT NULL,
    user_id TEXT NOT NULL,
    name    TEXT NOT NULL,
    email   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS requests (
    id          TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    version     INTEGER NOT NULL,
    op          TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    name        TEXT NOT NULL,
    email       TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
";

/// Request ids are remembered this long; a client retrying later than this
/// is not retrying.
const REQUEST_RETENTION_SECS: i64 = 24 * 60 * 60;

pub struct SqliteStore {
    connection: Connection,
    /// How many changes the log keeps.
    change_log: u64,
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn op_name(op: ChangeOp) -> &'static str {
    match op {
        ChangeOp::Added => "added",
        ChangeOp::Removed => "removed",
    }
}

fn op_from(name: &str) -> rusqlite::Result<ChangeOp> {
    match name {
        "added" => Ok(ChangeOp::Added),
        "removed" => Ok(ChangeOp::Removed),
        other => Err(rusqlite::Error::InvalidColumnType(
            1,
            format!("op {other:?}"),
            rusqlite::types::Type::Text,
        )),
    }
}

/// Reads `(version, op, user_id, name, email)` starting at column `first`.
fn change_from_row(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Change> {
    Ok(Change {
        version: row.get::<_, i64>(first)? as u64,
        op: op_from(&row.get::<_, String>(first + 1)?)?,
        user: User {
            id: UserId::new(row.get::<_, String>(first + 2)?),
            name: row.get(first + 3)?,
            email: row.get(first + 4)?,
        },
    })
}

/// Writes one change to the log and the users table, inside the caller's
/// transaction.
fn write_change(
    transaction: &rusqlite::Transaction<'_>,
    change: &Change,
) -> Result<(), StoreError> {
    let user = &change.user;
    let numeric_id: i64 = user.id.as_str().parse().map_err(|_| {
        StoreError::Unreadable(format!("a user id that is not numeric: {}", user.id))
    })?;
    transaction
        .prepare_cached(
            "INSERT INTO changes (version, op, user_id, name, email) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .and_then(|mut insert| {
            insert.execute(params![
                change.version as i64,
                op_name(change.op),
                user.id.as_str(),
                user.name,
                user.email
            ])
        })
        .map_err(StoreError::from)?;
    match change.op {
        ChangeOp::Added => transaction
            .prepare_cached("INSERT OR REPLACE INTO users (id, name, email) VALUES (?1, ?2, ?3)")
            .and_then(|mut insert| insert.execute(params![numeric_id, user.name, user.email])),
        ChangeOp::Removed => transaction.execute("DELETE FROM users WHERE id = ?1", [numeric_id]),
    }
    .map_err(StoreError::from)?;
    Ok(())
}

/// Records the version and id counter reached, and trims the change log to
/// its last `change_log` entries, inside the caller's transaction.
fn write_position(
    transaction: &rusqlite::Transaction<'_>,
    version: u64,
    next_id: u64,
    change_log: u64,
) -> Result<(), StoreError> {
    transaction
        .execute(
            "UPDATE meta SET value = ?1 WHERE key = 'version'",
            [version.to_string()],
        )
        .map_err(StoreError::from)?;
    transaction
        .execute(
            "UPDATE meta SET value = ?1 WHERE key = 'next_id'",
            [next_id.to_string()],
        )
        .map_err(StoreError::from)?;
    transaction
        .execute(
            "DELETE FROM changes WHERE version <= ?1",
            [version as i64 - change_log as i64],
        )
        .map_err(StoreError::from)?;
    Ok(())
}

impl SqliteStore {
    pub fn open(path: &str, change_log: u64) -> Result<Self, StoreError> {
        let connection = Connection::open(path).map_err(StoreError::from)?;
        // WAL lets readers (healthz, resumes) run beside the writer; FULL
        // makes every commit durable before it returns.
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(StoreError::from)?;
        connection
            .pragma_update(None, "synchronous", "FULL")
            .map_err(StoreError::from)?;
        connection
            .busy_timeout(std::time::Duration::from_secs(5))
            .map_err(StoreError::from)?;
        connection.execute_batch(SCHEMA).map_err(StoreError::from)?;
        let mut store = Self {
            connection,
            change_log: change_log.max(1),
        };
        store.init_meta()?;
        store
            .connection
            .execute(
                "DELETE FROM requests WHERE created_at < ?1",
                [now_secs() - REQUEST_RETENTION_SECS],
            )
            .map_err(StoreError::from)?;
        Ok(store)
    }

    fn init_meta(&mut self) -> Result<(), StoreError> {
        let defaults = [
            ("epoch", new_epoch()),
            ("version", "0".to_owned()),
            ("next_id", "1".to_owned()),
        ];
        for (key, value) in defaults {
            self.connection
                .execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES (?1, ?2)",
                    params![key, value],
                )
                .map_err(StoreError::from)?;
        }
        Ok(())
    }

    fn meta(&self, key: &str) -> Result<String, StoreError> {
        self.connection
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
                row.get(0)
            })
            .map_err(StoreError::from)
    }

    fn meta_number(&self, key: &str) -> Result<u64, StoreError> {
        let value = self.meta(key)?;
        value.parse().map_err(|_| {
            StoreError::Unreadable(format!("meta {key} that is not a number: {value:?}"))
        })
    }
}

impl Store for SqliteStore {
    fn load(&mut self) -> Result<Loaded, StoreError> {
        let mut statement = self
            .connection
            .prepare("SELECT id, name, email FROM users ORDER BY id")
            .map_err(StoreError::from)?;
        let users = statement
            .query_map([], |row| {
                Ok(User {
                    id: UserId::from(row.get::<_, i64>(0)? as u64),
                    name: row.get(1)?,
                    email: row.get(2)?,
                })
            })
            .map_err(StoreError::from)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::from)?;
        drop(statement);
        Ok(Loaded {
            epoch: self.meta("epoch")?,
            version: self.meta_number("version")?,
            next_id: self.meta_number("next_id")?,
            users,
        })
    }

    fn commit(
        &mut self,
        change: &Change,
        next_id: u64,
        request: Option<&StoredRequest>,
    ) -> Result<(), StoreError> {
        let change_log = self.change_log;
        let transaction = self.connection.transaction().map_err(StoreError::from)?;
        write_change(&transaction, change)?;
        write_position(&transaction, change.version, next_id, change_log)?;
        if let Some(request) = request {
            let user = &change.user;
            transaction
                .execute(
                    "INSERT INTO requests (id, fingerprint, version, op, user_id, name, email, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        request.id.as_str(),
                        request.fingerprint,
                        change.version as i64,
                        op_name(change.op),
                        user.id.as_str(),
                        user.name,
                        user.email,
                        now_secs()
                    ],
                )
                .map_err(StoreError::from)?;
        }
        transaction.commit().map_err(StoreError::from)
    }

    fn commit_batch(&mut self, changes: &[Change], next_id: u64) -> Result<(), StoreError> {
        let Some(last) = changes.last() else {
            return Ok(());
        };
        let change_log = self.change_log;
        let transaction = self.connection.transaction().map_err(StoreError::from)?;
        for change in changes {
            write_change(&transaction, change)?;
        }
        write_position(&transaction, last.version, next_id, change_log)?;
        transaction.commit().map_err(StoreError::from)
    }

    fn changes_since(&mut self, since: u64) -> Result<Option<Vec<Change>>, StoreError> {
        let version = self.meta_number("version")?;
        if since >= version {
            return Ok(Some(Vec::new()));
        }
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT version, op, user_id, name, email FROM changes WHERE version > ?1 ORDER BY version",
            )
            .map_err(StoreError::from)?;
        let changes = statement
            .query_map([since as i64], |row| change_from_row(row, 0))
            .map_err(StoreError::from)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::from)?;
        // Complete only if the log still starts right after `since`.
        let complete = changes.first().is_some_and(|c| c.version == since + 1)
            && changes.len() as u64 == version - since;
        Ok(complete.then_some(changes))
    }

    fn find_request(&mut self, id: &RequestId) -> Result<Option<StoredRequest>, StoreError> {
        self.connection
            .prepare_cached(
                "SELECT fingerprint, version, op, user_id, name, email FROM requests WHERE id = ?1",
            )
            .map_err(StoreError::from)?
            .query_row([id.as_str()], |row| {
                Ok(StoredRequest {
                    id: id.clone(),
                    fingerprint: row.get(0)?,
                    change: change_from_row(row, 1)?,
                })
            })
            .optional()
            .map_err(StoreError::from)
    }

    fn check(&mut self) -> Result<(), StoreError> {
        self.connection
            .query_row("SELECT 1", [], |_| Ok(()))
            .map_err(StoreError::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn added(version: u64, id: u64) -> Change {
        Change {
            version,
            op: ChangeOp::Added,
            user: User {
                id: UserId::from(id),
                name: format!("U{id}"),
                email: format!("u{id}@roster.test"),
            },
        }
    }

    #[test]
    fn a_new_store_starts_empty_at_version_zero() {
        let loaded = SqliteStore::open(":memory:", 10).unwrap().load().unwrap();
        assert_eq!((loaded.version, loaded.next_id), (0, 1));
        assert!(loaded.users.is_empty());
        assert_eq!(loaded.epoch.len(), 16);
    }

    #[test]
    fn commits_survive_reopening_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("roster.db");
        let path = path.to_str().unwrap();
        let epoch = {
            let mut store = SqliteStore::open(path, 10).unwrap();
            store.commit(&added(1, 1), 2, None).unwrap();
            store.commit(&added(2, 2), 3, None).unwrap();
            let mut removed = added(3, 1);
            removed.op = ChangeOp::Removed;
            store.commit(&removed, 3, None).unwrap();
            store.load().unwrap().epoch
        };
        let loaded = SqliteStore::open(path, 10).unwrap().load().unwrap();
        assert_eq!(loaded.epoch, epoch);
        assert_eq!((loaded.version, loaded.next_id), (3, 3));
        assert_eq!(loaded.users, vec![added(2, 2).user]);
    }

    #[test]
    fn the_log_answers_resumes_until_it_is_pruned() {
        let mut store = SqliteStore::open(":memory:", 3).unwrap();
        for version in 1..=5 {
            store
                .commit(&added(version, version), version + 1, None)
                .unwrap();
        }
        assert_eq!(store.changes_since(5).unwrap(), Some(vec![]));
        let tail = store.changes_since(2).unwrap().unwrap();
        assert_eq!(
            tail.iter().map(|c| c.version).collect::<Vec<_>>(),
            [3, 4, 5]
        );
        assert_eq!(
            store.changes_since(1).unwrap(),
            None,
            "version 2 was pruned"
        );
        assert_eq!(store.changes_since(9).unwrap(), Some(vec![]));
    }

    /// A store in memory where request `r-1` added user 1.
    fn store_with_one_request() -> (SqliteStore, StoredRequest) {
        let mut store = SqliteStore::open(":memory:", 10).unwrap();
        let request = StoredRequest {
            id: RequestId::parse("r-1").unwrap(),
            fingerprint: "add".into(),
            change: added(1, 1),
        };
        store.commit(&request.change, 2, Some(&request)).unwrap();
        (store, request)
    }

    #[test]
    fn requests_are_found_by_id() {
        let (mut store, request) = store_with_one_request();
        assert_eq!(store.find_request(&request.id).unwrap(), Some(request));
        let other = RequestId::parse("r-2").unwrap();
        assert_eq!(store.find_request(&other).unwrap(), None);
    }

    #[test]
    fn a_reused_request_id_fails_the_whole_commit() {
        let (mut store, request) = store_with_one_request();
        assert!(store.commit(&added(2, 2), 3, Some(&request)).is_err());
        let loaded = store.load().unwrap();
        assert_eq!((loaded.version, loaded.users.len()), (1, 1));
    }
}
