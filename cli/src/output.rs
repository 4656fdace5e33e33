//! Writing a command's output file without destroying anything: the output
//! may not be one of the command's inputs, an existing file is replaced only
//! when it is an artifact of the same kind (recognised by what atpilot writes
//! at its start) or with `--force`, and the new file appears whole (written
//! beside it, then renamed).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// What a command writes, and how its earlier outputs are recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A model artifact (`atpilot model train`): the model's magic bytes.
    Model,
    /// `atpilot model predict`: a CSV whose header is `id,predicted,confidence`.
    Predictions,
    /// `atpilot audit` in any format (HTML, Markdown, CSV, JSON).
    Audit,
    /// `atpilot report weekly`: its HTML, or one of its CSV tables (same header).
    Weekly,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Model => "an atpilot model",
            Kind::Predictions => "an atpilot predictions file",
            Kind::Audit => "an atpilot audit report",
            Kind::Weekly => "an atpilot weekly report file",
        }
    }

    /// Whether `existing` (the start of the file there) is an earlier output of this kind.
    fn recognises(self, existing: &[u8], new: &[u8]) -> bool {
        let text = String::from_utf8_lossy(existing);
        let first_line = |t: &str| t.lines().next().unwrap_or("").trim_end().to_string();
        match self {
            // `ATPILOT-MODEL\0v1` (atpilot_model::Model::to_bytes), any version.
            Kind::Model => existing.starts_with(b"ATPILOT-MODEL\0"),
            Kind::Predictions => first_line(&text) == "id,predicted,confidence",
            Kind::Audit => {
                text.starts_with("# Queue and routing audit")
                    || text.contains("<title>Queue and routing audit</title>")
                    || text.starts_with("queue_id,queue,tickets,")
                    || (text.trim_start().starts_with('{')
                        && text.contains("\"api_requests\"")
                        && text.contains("\"queues\""))
            }
            Kind::Weekly => {
                text.contains("<title>atpilot weekly report")
                    || (!new.is_empty() && first_line(&text) == first_line(&String::from_utf8_lossy(new)))
            }
        }
    }
}

/// Why an output is refused.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("refusing to write {}: it is also an input of this command ({}); choose another output file", .output.display(), .input.display())]
    IsInput { output: PathBuf, input: PathBuf },
    #[error("refusing to overwrite {}: it exists and is not {}; choose another output file, or pass --force to replace it", .0.display(), .1)]
    Foreign(PathBuf, &'static str),
    #[error("refusing to write {}: it is a directory", .0.display())]
    Directory(PathBuf),
    #[error("cannot write {}: {}", .0.display(), .1)]
    Io(PathBuf, std::io::Error),
}

/// The canonical form of a path that may not exist yet (its parent's canonical form and its name).
fn canonical(p: &Path) -> Option<PathBuf> {
    if let Ok(c) = p.canonicalize() {
        return Some(c);
    }
    let parent = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.canonicalize().ok()?,
        _ => std::env::current_dir().ok()?,
    };
    Some(parent.join(p.file_name()?))
}

/// Checks that `output` may be written: it is none of `inputs`, and an
/// existing file there is an earlier output of the same kind (unless `force`).
pub fn check(output: &Path, inputs: &[&Path], kind: Kind, new: &[u8], force: bool) -> Result<(), OutputError> {
    let out = canonical(output);
    for input in inputs {
        if out.is_some() && canonical(input) == out {
            return Err(OutputError::IsInput { output: output.to_path_buf(), input: input.to_path_buf() });
        }
    }
    let meta = match std::fs::metadata(output) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(OutputError::Io(output.to_path_buf(), e)),
    };
    if meta.is_dir() {
        return Err(OutputError::Directory(output.to_path_buf()));
    }
    if force {
        return Ok(());
    }
    let mut head = Vec::with_capacity(4096);
    std::fs::File::open(output)
        .and_then(|f| f.take(4096).read_to_end(&mut head))
        .map_err(|e| OutputError::Io(output.to_path_buf(), e))?;
    if kind.recognises(&head, new) { Ok(()) } else { Err(OutputError::Foreign(output.to_path_buf(), kind.name())) }
}

/// [`check`], then writes `bytes` to a temporary file beside `output` and renames it over.
pub fn write(output: &Path, inputs: &[&Path], kind: Kind, bytes: &[u8], force: bool) -> Result<(), OutputError> {
    check(output, inputs, kind, bytes, force)?;
    let io = |e| OutputError::Io(output.to_path_buf(), e);
    let name = output.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "output".into());
    let tmp = output.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let result = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    if let Err(e) = result.and_then(|()| std::fs::rename(&tmp, output)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_never_replace_inputs_or_foreign_files() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("tickets.csv");
        std::fs::write(&input, "id,title,description,label\n1,a,b,c\n").unwrap();
        let model = b"ATPILOT-MODEL\0v1rest";
        // Output = input, also through another spelling of the path.
        let other_spelling = dir.path().join(".").join("tickets.csv");
        assert!(matches!(
            write(&other_spelling, &[&input], Kind::Model, model, true),
            Err(OutputError::IsInput { .. })
        ));
        // A foreign file is kept unless --force.
        let csv = dir.path().join("export.csv");
        std::fs::write(&csv, "mine").unwrap();
        assert!(matches!(write(&csv, &[&input], Kind::Model, model, false), Err(OutputError::Foreign(..))));
        assert_eq!(std::fs::read(&csv).unwrap(), b"mine");
        write(&csv, &[&input], Kind::Model, model, true).unwrap();
        // An earlier artifact of the same kind is replaced; a new file is written.
        let m = dir.path().join("m.atm");
        write(&m, &[], Kind::Model, model, false).unwrap();
        write(&m, &[], Kind::Model, b"ATPILOT-MODEL\0v1new", false).unwrap();
        assert_eq!(std::fs::read(&m).unwrap(), b"ATPILOT-MODEL\0v1new");
        assert!(matches!(
            write(&m, &[], Kind::Predictions, b"id,predicted,confidence\n", false),
            Err(OutputError::Foreign(..))
        ));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3, "no temporary file left behind");
    }
}
