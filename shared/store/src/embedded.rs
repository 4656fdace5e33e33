//! The embedded state store: one redb file, so local state survives a
//! restart. Every write runs in a redb write transaction (serialised), which
//! makes conditional writes and counters atomic.

use crate::state::*;
use async_trait::async_trait;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why an existing embedded store cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// There is no store there (nothing was created).
    #[error("no atpilot state at {}", .0.display())]
    Missing(PathBuf),
    /// Another process (`atpilot dev`, usually) holds the store's lock.
    #[error("the atpilot state at {} is in use by another process (a running `atpilot dev`?)", .0.display())]
    InUse(PathBuf),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// items: "pk \0 sk" → JSON of [`Item`].
const ITEMS: TableDefinition<&str, &[u8]> = TableDefinition::new("items");
/// gsi1: "gsi1pk \0 gsi1sk \0 pk \0 sk" → "pk \0 sk".
const GSI1: TableDefinition<&str, &str> = TableDefinition::new("gsi1");

const SEP: char = '\u{0}';

fn item_key(k: &Key) -> String {
    format!("{}{SEP}{}", k.pk, k.sk)
}
fn gsi_key(g: &Key, k: &Key) -> String {
    format!("{}{SEP}{}{SEP}{}{SEP}{}", g.pk, g.sk, k.pk, k.sk)
}

/// A redb-backed [`StateStore`].
#[derive(Clone)]
pub struct EmbeddedStateStore {
    db: Arc<Database>,
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("embedded store: {e}"))
}

impl EmbeddedStateStore {
    /// Opens (or creates) the store at `dir/state.redb`, creating `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Unavailable(format!("cannot create state directory {}: {e}", dir.display())))?;
        let path = dir.join("state.redb");
        let db = Database::create(&path).map_err(|e| {
            StoreError::Unavailable(format!("cannot open {}: {e} (is another atpilot using it?)", path.display()))
        })?;
        Self::ready(db)
    }

    /// Opens the store at `dir/state.redb` only if it exists: commands that
    /// change state never create an empty store in a mistyped directory.
    /// A store locked by another process is told apart ([`OpenError::InUse`]).
    pub fn open_existing(dir: &Path) -> Result<Self, OpenError> {
        let path = dir.join("state.redb");
        if !path.is_file() {
            return Err(OpenError::Missing(dir.to_path_buf()));
        }
        let db = match Database::open(&path) {
            Ok(db) => db,
            Err(redb::DatabaseError::DatabaseAlreadyOpen) => return Err(OpenError::InUse(dir.to_path_buf())),
            Err(e) => return Err(StoreError::Unavailable(format!("cannot open {}: {e}", path.display())).into()),
        };
        Ok(Self::ready(db)?)
    }

    fn ready(db: Database) -> Result<Self, StoreError> {
        let txn = db.begin_write().map_err(unavailable)?;
        {
            txn.open_table(ITEMS).map_err(unavailable)?;
            txn.open_table(GSI1).map_err(unavailable)?;
        }
        txn.commit().map_err(unavailable)?;
        Ok(Self { db: Arc::new(db) })
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || f(&db))
            .await
            .map_err(|e| StoreError::Unavailable(format!("embedded store task failed: {e}")))?
    }
}

fn decode(key: &Key, bytes: &[u8]) -> Result<Item, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt { key: key.clone(), why: e.to_string() })
}

fn read_live(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    key: &Key,
    now: i64,
) -> Result<Option<Item>, StoreError> {
    match table.get(item_key(key).as_str()).map_err(unavailable)? {
        None => Ok(None),
        Some(v) => {
            let item = decode(key, v.value())?;
            Ok((!item.is_expired(now)).then_some(item))
        }
    }
}

fn write_item(txn: &redb::WriteTransaction, item: &Item, previous: Option<&Item>) -> Result<(), StoreError> {
    let bytes = serde_json::to_vec(item).map_err(|e| StoreError::Encode(e.to_string()))?;
    let mut items = txn.open_table(ITEMS).map_err(unavailable)?;
    let mut gsi = txn.open_table(GSI1).map_err(unavailable)?;
    if let Some(g) = previous.and_then(|p| p.gsi1.as_ref()) {
        gsi.remove(gsi_key(g, &item.key).as_str()).map_err(unavailable)?;
    }
    if let Some(g) = &item.gsi1 {
        gsi.insert(gsi_key(g, &item.key).as_str(), item_key(&item.key).as_str()).map_err(unavailable)?;
    }
    items.insert(item_key(&item.key).as_str(), bytes.as_slice()).map_err(unavailable)?;
    Ok(())
}

/// The stored item regardless of expiry (to clean its index entry).
fn read_raw(txn: &redb::WriteTransaction, key: &Key) -> Result<Option<Item>, StoreError> {
    let items = txn.open_table(ITEMS).map_err(unavailable)?;
    let raw = items.get(item_key(key).as_str()).map_err(unavailable)?;
    raw.map(|v| decode(key, v.value())).transpose()
}

#[async_trait]
impl StateStore for EmbeddedStateStore {
    async fn put(&self, item: Item, condition: Condition) -> Result<WriteOutcome, StoreError> {
        self.blocking(move |db| {
            let now = now_epoch();
            let txn = db.begin_write().map_err(unavailable)?;
            let stored = read_raw(&txn, &item.key)?;
            let live = stored.clone().filter(|i| !i.is_expired(now));
            let ok = match &condition {
                Condition::Always => true,
                Condition::NotExists => live.is_none(),
                Condition::StateIs(s) => live.as_ref().and_then(|i| i.state.as_deref()) == Some(s.as_str()),
            };
            if !ok {
                txn.abort().map_err(unavailable)?;
                return Ok(WriteOutcome::ConditionFailed { current: live });
            }
            write_item(&txn, &item, stored.as_ref())?;
            txn.commit().map_err(unavailable)?;
            Ok(WriteOutcome::Written)
        })
        .await
    }

    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let key = key.clone();
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(unavailable)?;
            let items = txn.open_table(ITEMS).map_err(unavailable)?;
            read_live(&items, &key, now_epoch())
        })
        .await
    }

    async fn query(&self, query: &Query) -> Result<Vec<Item>, StoreError> {
        let query = query.clone();
        self.blocking(move |db| {
            let now = now_epoch();
            let txn = db.begin_read().map_err(unavailable)?;
            let items = txn.open_table(ITEMS).map_err(unavailable)?;
            let start = format!("{}{SEP}{}", query.pk, query.sk_prefix.as_deref().unwrap_or(""));
            // Keys of this partition and prefix sort between start and start + U+10FFFF.
            let end = format!("{start}\u{10FFFF}");
            let mut keys: Vec<Key> = Vec::new();
            match query.index {
                Index::Primary => {
                    for entry in items.range(start.as_str()..end.as_str()).map_err(unavailable)? {
                        let (k, _) = entry.map_err(unavailable)?;
                        let (pk, sk) = k.value().split_once(SEP).unwrap_or((k.value(), ""));
                        keys.push(Key::new(pk, sk));
                    }
                }
                Index::Gsi1 => {
                    let gsi = txn.open_table(GSI1).map_err(unavailable)?;
                    for entry in gsi.range(start.as_str()..end.as_str()).map_err(unavailable)? {
                        let (_, v) = entry.map_err(unavailable)?;
                        let (pk, sk) = v.value().split_once(SEP).unwrap_or((v.value(), ""));
                        keys.push(Key::new(pk, sk));
                    }
                }
            }
            if query.descending {
                keys.reverse();
            }
            let mut out = Vec::new();
            for key in keys {
                if query.limit.is_some_and(|l| out.len() >= l) {
                    break;
                }
                if let Some(item) = read_live(&items, &key, now)? {
                    out.push(item);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn delete(&self, key: &Key) -> Result<(), StoreError> {
        let key = key.clone();
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(unavailable)?;
            if let Some(prev) = read_raw(&txn, &key)? {
                let mut items = txn.open_table(ITEMS).map_err(unavailable)?;
                items.remove(item_key(&key).as_str()).map_err(unavailable)?;
                if let Some(g) = &prev.gsi1 {
                    let mut gsi = txn.open_table(GSI1).map_err(unavailable)?;
                    gsi.remove(gsi_key(g, &key).as_str()).map_err(unavailable)?;
                }
            }
            txn.commit().map_err(unavailable)?;
            Ok(())
        })
        .await
    }

    async fn increment(&self, key: &Key, by: i64, expires_at: Option<i64>) -> Result<i64, StoreError> {
        let key = key.clone();
        self.blocking(move |db| {
            let now = now_epoch();
            let txn = db.begin_write().map_err(unavailable)?;
            let stored = read_raw(&txn, &key)?;
            let current = match stored.as_ref().filter(|i| !i.is_expired(now)) {
                Some(item) => item
                    .data
                    .get("count")
                    .and_then(|c| c.as_i64())
                    .ok_or_else(|| StoreError::Corrupt { key: key.clone(), why: "counter has no count".into() })?,
                None => 0,
            };
            let next = current + by;
            let mut item = Item::new(key.clone(), serde_json::json!({ "count": next }));
            item.expires_at = match stored.filter(|i| !i.is_expired(now)) {
                Some(prev) => prev.expires_at,
                None => expires_at,
            };
            write_item(&txn, &item, None)?;
            txn.commit().map_err(unavailable)?;
            Ok(next)
        })
        .await
    }
}
