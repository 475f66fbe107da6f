//! Moves a finished output folder into place.
//!
//! Outputs are written into a temporary folder beside the destination; only when every
//! file is written is the previous output moved aside and the new one renamed into place.
//! A folder that holds something other than a leadrecon output is never replaced.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

/// Errors preparing or publishing the output folder.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The folder cannot be created, written or renamed.
    #[error("cannot write the output folder {path}: {source}")]
    Io {
        /// The folder.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Another run holds the output folder's lock.
    #[error("another leadrecon run is writing {path} (it holds {lock}); wait for it to finish, or give this run another --out")]
    Locked {
        /// The output folder.
        path: String,
        /// The lock file.
        lock: String,
    },
    /// The destination exists and is not a leadrecon output.
    #[error("the output folder {path} exists and is not a leadrecon output (no manifest.json): refusing to replace it")]
    Foreign {
        /// The folder.
        path: String,
    },
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> PublishError + '_ {
    move |source| PublishError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Holds an output folder's lock until dropped. The lock is the operating system's
/// (`flock`): a run that is killed releases it with its process, so a stale lock file
/// never blocks the next run.
#[derive(Debug)]
pub struct Lock {
    _file: std::fs::File,
}

/// Takes `.<name>.lock` beside `dest`, or says which run holds it.
pub fn lock(dest: &Path) -> Result<Lock, PublishError> {
    let parent = parent_of(dest);
    std::fs::create_dir_all(&parent).map_err(io(&parent))?;
    let name = dest
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().to_string());
    let path = parent.join(format!(".{name}.lock"));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io(&path))?;
    match file.try_lock() {
        Ok(()) => Ok(Lock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => Err(PublishError::Locked {
            path: dest.display().to_string(),
            lock: path.display().to_string(),
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(io(&path)(e)),
    }
}

/// A temporary folder beside `dest`, after checking that `dest` may be replaced. Call it
/// holding `dest`'s [`lock`]: temporary folders a killed run left behind are removed.
pub fn staging(dest: &Path) -> Result<TempDir, PublishError> {
    let parent = parent_of(dest);
    std::fs::create_dir_all(&parent).map_err(io(&parent))?;
    let name = dest
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().to_string());
    // A run killed while publishing may have moved the previous output aside: put it back.
    // Half-written folders of killed runs go.
    let (tmp, old) = (format!(".{name}.tmp-"), format!(".{name}.old-"));
    for entry in std::fs::read_dir(&parent).map_err(io(&parent))?.flatten() {
        let file = entry.file_name().to_string_lossy().to_string();
        if file.starts_with(&old) && !dest.exists() {
            std::fs::rename(entry.path(), dest).map_err(io(dest))?;
        } else if file.starts_with(&tmp) || file.starts_with(&old) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    check_replaceable(dest)?;
    tempfile::Builder::new()
        .prefix(&format!(".{name}.tmp-"))
        .tempdir_in(&parent)
        .map_err(io(&parent))
}

fn parent_of(dest: &Path) -> PathBuf {
    dest.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn check_replaceable(dest: &Path) -> Result<(), PublishError> {
    if !dest.exists() {
        return Ok(());
    }
    let ours = dest.join("manifest.json").is_file();
    let empty = std::fs::read_dir(dest).map_err(io(dest))?.next().is_none();
    if ours || empty {
        Ok(())
    } else {
        Err(PublishError::Foreign {
            path: dest.display().to_string(),
        })
    }
}

/// Replaces `dest` with the staged folder.
pub fn publish(staged: TempDir, dest: &Path) -> Result<(), PublishError> {
    check_replaceable(dest)?;
    let staged = staged.keep();
    let old = dest.exists().then(|| {
        let name = dest
            .file_name()
            .map_or_else(|| "out".into(), |n| n.to_string_lossy().to_string());
        parent_of(dest).join(format!(".{name}.old-{}", std::process::id()))
    });
    if let Some(old) = &old {
        let _ = std::fs::remove_dir_all(old);
        std::fs::rename(dest, old).map_err(io(dest))?;
    }
    if let Err(e) = std::fs::rename(&staged, dest) {
        if let Some(old) = &old {
            let _ = std::fs::rename(old, dest);
        }
        let _ = std::fs::remove_dir_all(&staged);
        return Err(io(dest)(e));
    }
    if let Some(old) = old {
        std::fs::remove_dir_all(&old).map_err(io(&old))?;
    }
    Ok(())
}
