//! What a local run keeps in its state directory besides the store, so that a
//! restart on the same `--state` goes on where the last run stopped:
//!
//! * `approval.key`: the key that signs approval links (32 random bytes, hex,
//!   mode 0600), so links sent by an earlier run still verify;
//! * `signin.key`: the key that seals the sign-in cookies (same form), so a
//!   restart keeps people signed in;
//! * `sandbox-runs`: how many times a sandbox was started on this state. The
//!   sandbox is seeded afresh each time, so the tickets created after seeding
//!   get ids from [`ids_floor`] on, never the ids an earlier run handed out
//!   (which already have decisions in the store and would be ignored).

use std::io::Write;
use std::path::Path;

/// Ids reserved per sandbox run for the rows of each entity (tickets, notes,
/// time entries…) created after seeding.
pub const IDS_PER_RUN: i64 = 1_000_000;

/// Why a state-directory file could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {why}")]
pub struct StateDirError {
    pub path: String,
    pub why: String,
}

fn err(path: &Path, why: impl std::fmt::Display) -> StateDirError {
    StateDirError { path: path.display().to_string(), why: why.to_string() }
}

/// Writes `contents` to `path` through a temporary file and a rename, so a
/// crash leaves the old file or the new one, never half of one.
fn write_atomically(path: &Path, contents: &str, private: bool) -> Result<(), StateDirError> {
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let _ = private;
    let mut f = opts.open(&tmp).map_err(|e| err(&tmp, e))?;
    f.write_all(contents.as_bytes()).and_then(|_| f.sync_all()).map_err(|e| err(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| err(path, e))
}

/// The approval-link key of this state directory, created on first use.
/// A file that is not 64 hex digits is refused, not overwritten.
pub fn approval_key(dir: &Path) -> Result<String, StateDirError> {
    key_file(dir, "approval.key", "an approval key")
}

/// The key that seals this state directory's sign-in cookies (`signin.key`),
/// so a restart keeps people signed in. Same rules as [`approval_key`].
pub fn signin_key(dir: &Path) -> Result<String, StateDirError> {
    key_file(dir, "signin.key", "a sign-in key")
}

fn key_file(dir: &Path, name: &str, what: &str) -> Result<String, StateDirError> {
    let path = dir.join(name);
    match std::fs::read_to_string(&path) {
        Ok(s) => {
            let key = s.trim();
            if key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()) {
                Ok(key.to_string())
            } else {
                Err(err(&path, format!("not {what} (64 hex digits); move it away and atpilot makes a new one")))
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = super::random_secret();
            write_atomically(&path, &format!("{key}\n"), true)?;
            Ok(key)
        }
        Err(e) => Err(err(&path, e)),
    }
}

/// Counts this sandbox start; returns how many starts came before it. The
/// directory is created if it does not exist yet (a first start).
pub fn count_sandbox_run(dir: &Path) -> Result<i64, StateDirError> {
    std::fs::create_dir_all(dir).map_err(|e| err(dir, e))?;
    let path = dir.join("sandbox-runs");
    let before = match std::fs::read_to_string(&path) {
        Ok(s) => s.trim().parse::<i64>().map_err(|_| err(&path, "not a number of runs"))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(e) => return Err(err(&path, e)),
    };
    write_atomically(&path, &format!("{}\n", before + 1), false)?;
    Ok(before)
}

/// The first id for tickets created after seeding in a run that follows
/// `runs_before` earlier ones on the same state (`None` for the first run);
/// every other entity's rows continue the same way from their own last
/// seeded id (`Sandbox::continue_ids_past_runs`).
pub fn ids_floor(last_seeded_id: i64, runs_before: i64) -> Option<i64> {
    (runs_before > 0).then(|| last_seeded_id + 1 + runs_before * IDS_PER_RUN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_counted_from_a_directory_that_does_not_exist_yet() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("new").join("state");
        assert_eq!(count_sandbox_run(&state).unwrap(), 0, "a first start");
        assert_eq!(count_sandbox_run(&state).unwrap(), 1);
    }

    #[test]
    fn the_key_is_kept_and_a_foreign_file_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let k = approval_key(dir.path()).unwrap();
        assert_eq!(approval_key(dir.path()).unwrap(), k, "the same key on the next start");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("approval.key")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(dir.path().join("approval.key"), "my notes").unwrap();
        assert!(approval_key(dir.path()).is_err());
        assert_eq!(std::fs::read_to_string(dir.path().join("approval.key")).unwrap(), "my notes");
    }

    #[test]
    fn runs_are_counted_and_ids_move_past_earlier_runs() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(count_sandbox_run(dir.path()).unwrap(), 0);
        assert_eq!(count_sandbox_run(dir.path()).unwrap(), 1);
        assert_eq!(ids_floor(3000, 0), None);
        assert_eq!(ids_floor(3000, 1), Some(1_003_001));
        assert_eq!(ids_floor(3000, 2), Some(2_003_001));
    }
}
