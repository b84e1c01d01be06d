//! The default store: one SQLite file (or `:memory:`) holding every list.
//!
//! Each commit is one transaction that writes the change to the log, applies
//! it to the users table, moves the list's version and records the request,
//! with `synchronous=FULL` so it is on disk before the caller acknowledges
//! it.
//!
//! # One file, every list
//! Every table is keyed by the list's name first. One file means one
//! connection, one page cache and one WAL for the whole server, and a list
//! costs rows, not a file handle and its caches: 1,000 lists in 1,000
//! files would hold 1,000 connections (each with its own cache and WAL)
//! and make `--max-lists` a count of open files. What one file gives up is
//! writing two lists' commits at the same moment; SQLite has one writer
//! per file either way, and a commit is one fsync.
//!
//! Files from before lists (tables `meta`, `users`, `changes`,
//! `requests`) are moved into the list `default` when opened, in one
//! transaction.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use roster_protocol::v1::{Change, ChangeOp};
use roster_protocol::validate::RequestId;
use roster_protocol::{ListName, User, UserId};
use rusqlite::{params, Connection, OptionalExtension};

use super::{new_epoch, ListFigures, Loaded, Store, StoreError, StoredRequest};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS lists (
    name       TEXT PRIMARY KEY,
    epoch      TEXT NOT NULL,
    version    INTEGER NOT NULL,
    next_id    INTEGER NOT NULL,
    users      INTEGER NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS list_users (
    list  TEXT NOT NULL,
    id    INTEGER NOT NULL,
    name  TEXT NOT NULL,
    email TEXT NOT NULL,
    PRIMARY KEY (list, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS list_changes (
    list    TEXT NOT NULL,
    version INTEGER NOT NULL,
    op      TEXT NOT NULL,
    user_id TEXT NOT NULL,
    name    TEXT NOT NULL,
    email   TEXT NOT NULL,
    PRIMARY KEY (list, version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS list_requests (
    list        TEXT NOT NULL,
    id          TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    version     INTEGER NOT NULL,
    op          TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    name        TEXT NOT NULL,
    email       TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (list, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS list_requests_by_age ON list_requests (created_at);
";

/// Moves a file from before lists into the list `default`.
const MIGRATE_SINGLE_LIST: &str = "
INSERT OR IGNORE INTO lists (name, epoch, version, next_id, users, created_at)
    SELECT 'default',
           (SELECT value FROM meta WHERE key = 'epoch'),
           CAST((SELECT value FROM meta WHERE key = 'version') AS INTEGER),
           CAST((SELECT value FROM meta WHERE key = 'next_id') AS INTEGER),
           (SELECT COUNT(*) FROM users),
           CAST(strftime('%s', 'now') AS INTEGER);
INSERT INTO list_users (list, id, name, email)
    SELECT 'default', id, name, email FROM users;
INSERT INTO list_changes (list, version, op, user_id, name, email)
    SELECT 'default', version, op, user_id, name, email FROM changes;
INSERT INTO list_requests (list, id, fingerprint, version, op, user_id, name, email, created_at)
    SELECT 'default', id, fingerprint, version, op, user_id, name, email, created_at FROM requests;
DROP TABLE meta;
DROP TABLE users;
DROP TABLE changes;
DROP TABLE requests;
";

/// Request ids are remembered this long; a client retrying later than this
/// is not retrying.
const REQUEST_RETENTION_SECS: i64 = 24 * 60 * 60;

/// The file every list is kept in: one connection, shared.
pub struct SqliteFile {
    connection: Mutex<Connection>,
    /// How many changes each list's log keeps.
    change_log: u64,
}

/// One list in the file.
pub struct SqliteStore {
    file: Arc<SqliteFile>,
    list: ListName,
    /// The list's epoch when it was loaded: a commit to a list deleted
    /// and created again since (another epoch) is refused, not written
    /// into the new list.
    epoch: Option<String>,
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
    list: &ListName,
    change: &Change,
) -> Result<(), StoreError> {
    let user = &change.user;
    let numeric_id: i64 = user.id.as_str().parse().map_err(|_| {
        StoreError::Unreadable(format!("a user id that is not numeric: {}", user.id))
    })?;
    transaction
        .prepare_cached(
            "INSERT INTO list_changes (list, version, op, user_id, name, email)
             VALUES (?6, ?1, ?2, ?3, ?4, ?5)",
        )
        .and_then(|mut insert| {
            insert.execute(params![
                change.version as i64,
                op_name(change.op),
                user.id.as_str(),
                user.name,
                user.email,
                list.as_str()
            ])
        })
        .map_err(StoreError::from)?;
    match change.op {
        ChangeOp::Added => transaction
            .prepare_cached(
                "INSERT OR REPLACE INTO list_users (list, id, name, email) VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut insert| {
                insert.execute(params![list.as_str(), numeric_id, user.name, user.email])
            }),
        ChangeOp::Removed => transaction
            .prepare_cached("DELETE FROM list_users WHERE list = ?1 AND id = ?2")
            .and_then(|mut delete| delete.execute(params![list.as_str(), numeric_id])),
    }
    .map_err(StoreError::from)?;
    Ok(())
}

/// Records the version, id counter and user count reached, and trims the
/// change log to its last `change_log` entries, inside the caller's
/// transaction. Fails, so the transaction is rolled back, when the list
/// is no longer there (deleted while a write was on its way).
fn write_position(
    transaction: &rusqlite::Transaction<'_>,
    list: &ListName,
    epoch: Option<&str>,
    changes: &[Change],
    next_id: u64,
    change_log: u64,
) -> Result<(), StoreError> {
    let Some(last) = changes.last() else {
        return Ok(());
    };
    let version = last.version;
    let users: i64 = changes
        .iter()
        .map(|change| match change.op {
            ChangeOp::Added => 1,
            ChangeOp::Removed => -1,
        })
        .sum();
    let updated = transaction
        .prepare_cached(
            "UPDATE lists SET version = ?2, next_id = ?3, users = users + ?4
             WHERE name = ?1 AND (?5 IS NULL OR epoch = ?5)",
        )
        .and_then(|mut update| {
            update.execute(params![
                list.as_str(),
                version as i64,
                next_id as i64,
                users,
                epoch
            ])
        })
        .map_err(StoreError::from)?;
    if updated != 1 {
        return Err(StoreError::NoSuchList(list.clone()));
    }
    transaction
        .prepare_cached("DELETE FROM list_changes WHERE list = ?1 AND version <= ?2")
        .and_then(|mut delete| {
            delete.execute(params![list.as_str(), version as i64 - change_log as i64])
        })
        .map_err(StoreError::from)?;
    Ok(())
}

impl SqliteFile {
    /// Opens (or creates) the file at `path`, moving a file from before
    /// lists into `default`, and makes sure `default` exists.
    pub fn open(path: &str, change_log: u64) -> Result<Arc<Self>, StoreError> {
        let mut connection = Connection::open(path).map_err(StoreError::from)?;
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
        let transaction = connection.transaction().map_err(StoreError::from)?;
        transaction
            .execute_batch(SCHEMA)
            .map_err(StoreError::from)?;
        let single_list: bool = transaction
            .query_row(
                "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
                [],
                |row| row.get(0),
            )
            .map_err(StoreError::from)?;
        if single_list {
            transaction
                .execute_batch(MIGRATE_SINGLE_LIST)
                .map_err(StoreError::from)?;
            tracing::info!(path, "moved the list of a single-list file into `default`");
        }
        transaction
            .execute(
                "DELETE FROM list_requests WHERE created_at < ?1",
                [now_secs() - REQUEST_RETENTION_SECS],
            )
            .map_err(StoreError::from)?;
        transaction.commit().map_err(StoreError::from)?;
        let file = Arc::new(Self {
            connection: Mutex::new(connection),
            change_log: change_log.max(1),
        });
        file.create(&ListName::default_list())?;
        Ok(file)
    }

    fn connection(&self) -> MutexGuard<'_, Connection> {
        self.connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The store of list `name` (which may not exist: [`Store::load`]
    /// says so).
    pub fn list(self: &Arc<Self>, name: &ListName) -> SqliteStore {
        SqliteStore {
            file: Arc::clone(self),
            list: name.clone(),
            epoch: None,
        }
    }

    /// Creates list `name`, empty, with a new epoch; `false` when it
    /// already exists (nothing changes then).
    pub fn create(&self, name: &ListName) -> Result<bool, StoreError> {
        let created = self
            .connection()
            .execute(
                "INSERT OR IGNORE INTO lists (name, epoch, version, next_id, users, created_at)
                 VALUES (?1, ?2, 0, 1, 0, ?3)",
                params![name.as_str(), new_epoch(), now_secs()],
            )
            .map_err(StoreError::from)?;
        Ok(created == 1)
    }

    /// Deletes list `name` and everything of it, in one transaction;
    /// `false` when there was no such list.
    pub fn delete(&self, name: &ListName) -> Result<bool, StoreError> {
        let mut connection = self.connection();
        let transaction = connection.transaction().map_err(StoreError::from)?;
        let deleted = transaction
            .execute("DELETE FROM lists WHERE name = ?1", [name.as_str()])
            .map_err(StoreError::from)?;
        for table in ["list_users", "list_changes", "list_requests"] {
            transaction
                .execute(
                    &format!("DELETE FROM {table} WHERE list = ?1"),
                    [name.as_str()],
                )
                .map_err(StoreError::from)?;
        }
        transaction.commit().map_err(StoreError::from)?;
        Ok(deleted == 1)
    }

    /// Whether list `name` exists.
    pub fn exists(&self, name: &ListName) -> Result<bool, StoreError> {
        self.connection()
            .query_row(
                "SELECT 1 FROM lists WHERE name = ?1",
                [name.as_str()],
                |_| Ok(()),
            )
            .optional()
            .map(|found| found.is_some())
            .map_err(StoreError::from)
    }

    /// How many lists exist.
    pub fn count(&self) -> Result<u64, StoreError> {
        self.connection()
            .query_row("SELECT COUNT(*) FROM lists", [], |row| row.get::<_, i64>(0))
            .map(|count| count as u64)
            .map_err(StoreError::from)
    }

    /// Up to `limit` lists whose names come after `after`, in name order,
    /// with each one's figures, keeping those `keep` says.
    pub fn page(
        &self,
        after: &str,
        limit: usize,
        keep: &dyn Fn(&ListName) -> bool,
    ) -> Result<Vec<ListFigures>, StoreError> {
        let connection = self.connection();
        let mut statement = connection
            .prepare_cached("SELECT name, users, version FROM lists WHERE name > ?1 ORDER BY name")
            .map_err(StoreError::from)?;
        let mut rows = statement.query([after]).map_err(StoreError::from)?;
        let mut page = Vec::new();
        while page.len() < limit {
            let Some(row) = rows.next().map_err(StoreError::from)? else {
                break;
            };
            let name: String = row.get(0).map_err(StoreError::from)?;
            let name =
                ListName::parse(&name).map_err(|err| StoreError::Unreadable(err.to_string()))?;
            if keep(&name) {
                page.push(ListFigures {
                    name,
                    users: row.get::<_, i64>(1).map_err(StoreError::from)? as u64,
                    version: row.get::<_, i64>(2).map_err(StoreError::from)? as u64,
                });
            }
        }
        Ok(page)
    }
}

impl Store for SqliteStore {
    fn load(&mut self) -> Result<Loaded, StoreError> {
        let connection = self.file.connection();
        let head = connection
            .query_row(
                "SELECT epoch, version, next_id FROM lists WHERE name = ?1",
                [self.list.as_str()],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, i64>(1)? as u64,
                        row.get::<_, i64>(2)? as u64,
                    ))
                },
            )
            .optional()
            .map_err(StoreError::from)?;
        let Some((epoch, version, next_id)) = head else {
            return Err(StoreError::NoSuchList(self.list.clone()));
        };
        self.epoch = Some(epoch.clone());
        let mut statement = connection
            .prepare_cached("SELECT id, name, email FROM list_users WHERE list = ?1 ORDER BY id")
            .map_err(StoreError::from)?;
        let users = statement
            .query_map([self.list.as_str()], |row| {
                Ok(User {
                    id: UserId::from(row.get::<_, i64>(0)? as u64),
                    name: row.get(1)?,
                    email: row.get(2)?,
                })
            })
            .map_err(StoreError::from)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::from)?;
        Ok(Loaded {
            epoch,
            version,
            next_id,
            users,
        })
    }

    fn commit(
        &mut self,
        change: &Change,
        next_id: u64,
        request: Option<&StoredRequest>,
    ) -> Result<(), StoreError> {
        let change_log = self.file.change_log;
        let list = &self.list;
        let mut connection = self.file.connection();
        let transaction = connection.transaction().map_err(StoreError::from)?;
        write_change(&transaction, list, change)?;
        write_position(
            &transaction,
            list,
            self.epoch.as_deref(),
            std::slice::from_ref(change),
            next_id,
            change_log,
        )?;
        if let Some(request) = request {
            let user = &change.user;
            transaction
                .prepare_cached(
                    "INSERT INTO list_requests
                     (list, id, fingerprint, version, op, user_id, name, email, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )
                .and_then(|mut insert| {
                    insert.execute(params![
                        list.as_str(),
                        request.id.as_str(),
                        request.fingerprint,
                        change.version as i64,
                        op_name(change.op),
                        user.id.as_str(),
                        user.name,
                        user.email,
                        now_secs()
                    ])
                })
                .map_err(StoreError::from)?;
        }
        transaction.commit().map_err(StoreError::from)
    }

    fn commit_batch(&mut self, changes: &[Change], next_id: u64) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let change_log = self.file.change_log;
        let list = &self.list;
        let mut connection = self.file.connection();
        let transaction = connection.transaction().map_err(StoreError::from)?;
        for change in changes {
            write_change(&transaction, list, change)?;
        }
        write_position(
            &transaction,
            list,
            self.epoch.as_deref(),
            changes,
            next_id,
            change_log,
        )?;
        transaction.commit().map_err(StoreError::from)
    }

    fn changes_since(&mut self, since: u64) -> Result<Option<Vec<Change>>, StoreError> {
        let connection = self.file.connection();
        let version = connection
            .query_row(
                "SELECT version FROM lists WHERE name = ?1",
                [self.list.as_str()],
                |row| row.get::<_, i64>(0),
            )
            .optional()
            .map_err(StoreError::from)?
            .ok_or_else(|| StoreError::NoSuchList(self.list.clone()))? as u64;
        if since >= version {
            return Ok(Some(Vec::new()));
        }
        let mut statement = connection
            .prepare_cached(
                "SELECT version, op, user_id, name, email FROM list_changes
                 WHERE list = ?1 AND version > ?2 ORDER BY version",
            )
            .map_err(StoreError::from)?;
        let changes = statement
            .query_map(params![self.list.as_str(), since as i64], |row| {
                change_from_row(row, 0)
            })
            .map_err(StoreError::from)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::from)?;
        // Complete only if the log still starts right after `since`.
        let complete = changes.first().is_some_and(|c| c.version == since + 1)
            && changes.len() as u64 == version - since;
        Ok(complete.then_some(changes))
    }

    fn find_request(&mut self, id: &RequestId) -> Result<Option<StoredRequest>, StoreError> {
        self.file
            .connection()
            .prepare_cached(
                "SELECT fingerprint, version, op, user_id, name, email FROM list_requests
                 WHERE list = ?1 AND id = ?2",
            )
            .map_err(StoreError::from)?
            .query_row(params![self.list.as_str(), id.as_str()], |row| {
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
        self.file
            .connection()
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

    /// The list `default` of a new file in memory.
    fn default_store(change_log: u64) -> SqliteStore {
        SqliteFile::open(":memory:", change_log)
            .unwrap()
            .list(&ListName::default_list())
    }

    fn name(text: &str) -> ListName {
        ListName::parse(text).unwrap()
    }

    #[test]
    fn a_new_store_starts_empty_at_version_zero() {
        let loaded = default_store(10).load().unwrap();
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
            let mut store = SqliteFile::open(path, 10)
                .unwrap()
                .list(&ListName::default_list());
            store.commit(&added(1, 1), 2, None).unwrap();
            store.commit(&added(2, 2), 3, None).unwrap();
            let mut removed = added(3, 1);
            removed.op = ChangeOp::Removed;
            store.commit(&removed, 3, None).unwrap();
            store.load().unwrap().epoch
        };
        let loaded = SqliteFile::open(path, 10)
            .unwrap()
            .list(&ListName::default_list())
            .load()
            .unwrap();
        assert_eq!(loaded.epoch, epoch);
        assert_eq!((loaded.version, loaded.next_id), (3, 3));
        assert_eq!(loaded.users, vec![added(2, 2).user]);
    }

    #[test]
    fn the_log_answers_resumes_until_it_is_pruned() {
        let mut store = default_store(3);
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
        let mut store = default_store(10);
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

    #[test]
    fn lists_in_one_file_share_nothing_but_the_file() {
        let file = SqliteFile::open(":memory:", 10).unwrap();
        assert!(file.create(&name("team-a")).unwrap());
        assert!(!file.create(&name("team-a")).unwrap(), "already there");
        let mut default = file.list(&ListName::default_list());
        let mut team = file.list(&name("team-a"));
        let request = StoredRequest {
            id: RequestId::parse("r-1").unwrap(),
            fingerprint: "add".into(),
            change: added(1, 1),
        };
        default.commit(&request.change, 2, Some(&request)).unwrap();
        // The same version, user id and request id in another list.
        team.commit(&added(1, 1), 2, Some(&request)).unwrap();
        team.commit(&added(2, 2), 3, None).unwrap();
        assert_eq!(default.load().unwrap().users.len(), 1);
        assert_eq!(team.load().unwrap().users.len(), 2);
        assert_ne!(default.load().unwrap().epoch, team.load().unwrap().epoch);
        assert_eq!(default.changes_since(0).unwrap().unwrap().len(), 1);
        assert_eq!(team.changes_since(0).unwrap().unwrap().len(), 2);
        let everything = |_: &ListName| true;
        let page = file.page("", 10, &everything).unwrap();
        let figures: Vec<_> = page
            .iter()
            .map(|f| (f.name.as_str(), f.users, f.version))
            .collect();
        assert_eq!(figures, [("default", 1, 1), ("team-a", 2, 2)]);
        assert_eq!(file.page("default", 10, &everything).unwrap().len(), 1);
        assert_eq!(file.count().unwrap(), 2);
    }

    #[test]
    fn a_deleted_list_takes_everything_with_it_and_refuses_late_writes() {
        let file = SqliteFile::open(":memory:", 10).unwrap();
        file.create(&name("gone")).unwrap();
        let mut gone = file.list(&name("gone"));
        gone.commit(&added(1, 1), 2, None).unwrap();
        assert!(file.delete(&name("gone")).unwrap());
        assert!(!file.delete(&name("gone")).unwrap());
        assert!(!file.exists(&name("gone")).unwrap());
        assert!(matches!(gone.load(), Err(StoreError::NoSuchList(_))));
        assert!(matches!(
            gone.commit(&added(2, 2), 3, None),
            Err(StoreError::NoSuchList(_))
        ));
        // Created again, it starts from nothing, and a writer that loaded
        // the old list cannot write into the new one.
        let mut stale = file.list(&name("gone"));
        file.create(&name("gone")).unwrap();
        let _ = stale.load();
        file.delete(&name("gone")).unwrap();
        file.create(&name("gone")).unwrap();
        assert!(matches!(
            stale.commit(&added(1, 1), 2, None),
            Err(StoreError::NoSuchList(_))
        ));
        let loaded = gone.load().unwrap();
        assert_eq!((loaded.version, loaded.users.len()), (0, 0));
        assert_eq!(gone.changes_since(0).unwrap(), Some(vec![]));
    }

    #[test]
    fn a_file_from_before_lists_becomes_the_default_list() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let old = Connection::open(&path).unwrap();
        old.execute_batch(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL);
             CREATE TABLE changes (version INTEGER PRIMARY KEY, op TEXT NOT NULL,
                 user_id TEXT NOT NULL, name TEXT NOT NULL, email TEXT NOT NULL);
             CREATE TABLE requests (id TEXT PRIMARY KEY, fingerprint TEXT NOT NULL,
                 version INTEGER NOT NULL, op TEXT NOT NULL, user_id TEXT NOT NULL,
                 name TEXT NOT NULL, email TEXT NOT NULL, created_at INTEGER NOT NULL);
             INSERT INTO meta VALUES ('epoch', 'e0e0e0e0e0e0e0e0'), ('version', '2'), ('next_id', '3');
             INSERT INTO users VALUES (2, 'U2', 'u2@roster.test');
             INSERT INTO changes VALUES (1, 'added', '1', 'U1', 'u1@roster.test'),
                                        (2, 'added', '2', 'U2', 'u2@roster.test');",
        )
        .unwrap();
        old.execute(
            "INSERT INTO requests VALUES ('r-1', 'add', 2, 'added', '2', 'U2', 'u2@roster.test', ?1)",
            [now_secs()],
        )
        .unwrap();
        drop(old);
        let file = SqliteFile::open(path.to_str().unwrap(), 10).unwrap();
        let mut default = file.list(&ListName::default_list());
        let loaded = default.load().unwrap();
        assert_eq!(loaded.epoch, "e0e0e0e0e0e0e0e0");
        assert_eq!((loaded.version, loaded.next_id), (2, 3));
        assert_eq!(loaded.users, vec![added(2, 2).user]);
        assert_eq!(default.changes_since(0).unwrap().unwrap().len(), 2);
        let replay = default
            .find_request(&RequestId::parse("r-1").unwrap())
            .unwrap();
        assert_eq!(replay.map(|r| r.change.version), Some(2));
        let figures = file.page("", 10, &|_| true).unwrap();
        assert_eq!((figures[0].users, figures[0].version), (1, 2));
        drop(file);
        // Opened again: nothing to move, nothing lost.
        let again = SqliteFile::open(path.to_str().unwrap(), 10).unwrap();
        assert_eq!(
            again.list(&ListName::default_list()).load().unwrap(),
            loaded
        );
    }
}
